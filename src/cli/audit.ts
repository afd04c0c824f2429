import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openSigningKey, readPublicKeyPem } from '../adapters/fs/audit-signing-key.js';
import { exportLines, readCheckpointFile, verifyExport } from '../audit/export.js';
import { pruneExpired } from '../audit/prune.js';
import { verifyStore } from '../audit/verify.js';
import { describeProblem, type AuditReport, type SourcedCheckpoint } from '../core/audit-verifier.js';
import { signCheckpoint, TrustedKeys } from '../core/checkpoint.js';
import { GatehouseError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { defaultOperator, withOperatorStores } from './governance-context.js';
import { nonBlank } from './option-values.js';
import { parseSince } from './since.js';
import { writeLines } from './write-lines.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `gatehouse audit verify|export|checkpoint|public-key|prune`: the tamper-evident audit trail. */
export function registerAudit(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('Verify, export and prune the tamper-evident audit trail');

  audit
    .command('verify')
    .description(
      'Check the hash chain and the signed checkpoints of the store (or of an export with --export); exit 1 at the first modified, deleted, inserted, reordered or truncated position',
    )
    .option('--config <file>', 'config file')
    .option('--export <file>', 'verify this export file on its own instead of the store')
    .option('--checkpoint <file>', 'a checkpoint kept elsewhere (gatehouse audit checkpoint, or an export): the store must still hold what it vouches for; repeatable', collect)
    .option('--public-key <file>', 'trust only this public key (PEM, from gatehouse audit public-key); repeatable', collect)
    .option('--json', 'print the report as JSON')
    .action(async (options: { config?: string; export?: string; checkpoint?: string[]; publicKey?: string[]; json?: boolean }) => {
      const pinned = options.publicKey?.map(readPublicKeyFile);
      if (options.export) {
        if (options.checkpoint) throw new GatehouseError('GH_INVALID_ARGUMENTS', '--checkpoint applies to the store, not to --export');
        const report = await verifyExport(options.export, pinned);
        const keys = pinned ? 'pinned with --public-key' : 'named by the export itself; pin one with --public-key';
        return print(report, `${report.keyIds.join(', ') || 'none'} (${keys})`, options.json);
      }
      const external: SourcedCheckpoint[] = [];
      for (const file of options.checkpoint ?? []) external.push(...(await readCheckpointFile(file)));
      await withOperatorStores(context, options.config, async ({ stores, config }) => {
        const own = readPublicKeyPem(config.audit.signingKeyFile);
        const keys = new TrustedKeys(pinned ?? (own ? [own] : []));
        const report = await verifyStore(stores, keys, external);
        const source = pinned ? 'pinned with --public-key' : own ? `of ${config.audit.signingKeyFile}` : 'none: no signing key file';
        print(report, `${keys.ids.join(', ') || '-'} (${source})`, options.json);
      });
    });

  audit
    .command('export')
    .description('Write the events (with their chain fields) and signed checkpoints as JSONL to stdout; a checkpoint is signed at the last event so the file verifies on its own')
    .option('--config <file>', 'config file')
    .option('--since <time>', 'only events at or after this time (ISO-8601, or a duration back from now: 90m, 24h, 30d)')
    .action((options: { config?: string; since?: string }) =>
      withOperatorStores(context, options.config, async ({ stores, config }) => {
        const now = new Date();
        const since = options.since === undefined ? undefined : parseSince(options.since, now);
        await writeLines(process.stdout, exportLines(stores, openSigningKey(config.audit.signingKeyFile), { since, now }));
      }),
    );

  audit
    .command('checkpoint')
    .description('Sign a checkpoint at the last event now and print it (one JSON line): keep it elsewhere and pass it to verify --checkpoint')
    .option('--config <file>', 'config file')
    .action((options: { config?: string }) =>
      withOperatorStores(context, options.config, async ({ stores, config }) => {
        const { checkpoints } = stores;
        const head = await checkpoints.head();
        if (!head) throw new GatehouseError('GH_INVALID_ARGUMENTS', 'the store holds no chained event yet: nothing to sign');
        const checkpoint = signCheckpoint(head, new Date().toISOString(), openSigningKey(config.audit.signingKeyFile));
        await checkpoints.add(checkpoint);
        process.stdout.write(`${JSON.stringify({ kind: 'checkpoint', ...checkpoint })}\n`);
      }),
    );

  audit
    .command('public-key')
    .description('Print the public key that checks the checkpoint signatures (PEM; the key is created if missing)')
    .option('--config <file>', 'config file')
    .action((options: { config?: string }) => {
      const config = context.loadConfig(options.config);
      const signer = openSigningKey(config.audit.signingKeyFile);
      process.stderr.write(`key id ${signer.keyId}\n`);
      process.stdout.write(signer.publicKeyPem);
    });

  audit
    .command('prune')
    .description('Delete events past their retention (audit.retention), as a prefix ending at a signed checkpoint, so that the rest still verifies')
    .option('--config <file>', 'config file')
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .option('--by <name>', 'who prunes (default: the OS user)', nonBlank('--by', 'a name'))
    .action((options: { config?: string; dryRun?: boolean; by?: string }) =>
      withOperatorStores(context, options.config, async ({ stores, config }) => {
        const signer = openSigningKey(config.audit.signingKeyFile);
        const outcome = await pruneExpired(
          { ...stores, append: (event) => stores.events.append(event) },
          signer,
          new TrustedKeys([signer.publicKeyPem]),
          config.audit.retention,
          { now: new Date(), by: options.by ?? defaultOperator(), dryRun: options.dryRun === true },
        );
        const held = outcome.heldBackBy ? `; event ${outcome.heldBackBy.seq} (${outcome.heldBackBy.type}, ${outcome.heldBackBy.at}) is still within its retention` : '';
        if (outcome.floorSeq === undefined) return void process.stdout.write(`nothing to prune${held}\n`);
        const verb = options.dryRun ? 'would delete' : 'deleted';
        process.stdout.write(`${verb} ${outcome.deleted} events through ${outcome.floorSeq}; the chain now starts after the signed checkpoint at ${outcome.floorSeq}${held}\n`);
      }),
    );
}

function print(report: AuditReport & { keyIds?: string[] }, keys: string, json: boolean | undefined): void {
  if (report.problem) process.exitCode = 1;
  if (json) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.problem) {
    return void process.stdout.write(`audit chain BROKEN at event ${report.problem.seq}: ${describeProblem(report.problem)} (${report.checked} events verified before it)\n`);
  }
  const parts = [`audit chain OK: ${report.checked} events, last ${report.lastSeq ?? '-'} ${report.lastHash?.slice(0, 16) ?? ''}`.trimEnd()];
  if (report.start === 'anchor') parts.push(`starts after the signed prune at ${report.prunedThrough}`);
  if (report.start === 'open' && report.firstSeq !== undefined) parts.push(`from event ${report.firstSeq}`);
  const unsigned = report.lastSeq === undefined ? 0 : report.lastSeq - (report.latestCheckpoint ?? 0);
  parts.push(`${report.checkpointsMatched} signed checkpoints matched${report.latestCheckpoint === undefined ? '' : ` (latest at ${report.latestCheckpoint})`}`);
  if (unsigned > 0) parts.push(`${unsigned} events after the latest checkpoint are not signed yet`);
  if (report.unchained > 0) parts.push(`${report.unchained} older events predate the chain`);
  parts.push(`keys ${keys}`);
  process.stdout.write(`${parts.join('; ')}\n`);
}

/** A --public-key file's PEM, checked to be an Ed25519 public key here, where the file can be named. */
function readPublicKeyFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatehouseError('GH_AUDIT_KEY_INVALID', `--public-key ${file}: cannot read it: ${(error as Error).message}`, { file });
  }
  try {
    new TrustedKeys([pem]);
  } catch (error) {
    throw new GatehouseError('GH_AUDIT_KEY_INVALID', `--public-key ${file}: ${(error as Error).message}`, { file });
  }
  return pem;
}
