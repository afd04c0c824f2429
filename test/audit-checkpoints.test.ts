import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openSigningKey } from '../src/adapters/fs/audit-signing-key.js';
import { SqliteAuditArchive } from '../src/adapters/sqlite/audit-archive.js';
import { SqliteCheckpointStore } from '../src/adapters/sqlite/checkpoint-store.js';
import { SqliteRunsStore } from '../src/adapters/sqlite/runs-store.js';
import { openSqlite, type SqliteDatabase } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { pruneExpired } from '../src/audit/prune.js';
import { verifyStore } from '../src/audit/verify.js';
import { keyIdOf, signCheckpoint, TrustedKeys, type AuditSigner } from '../src/core/checkpoint.js';
import { eventHash, type ChainedEvent } from '../src/core/event-chain.js';
import { isGatehouseError } from '../src/core/errors.js';
import type { EventType, GatehouseEvent } from '../src/core/events.js';
import { httpClient, runCli, SERVERS, startServe, tempConfig, TOKENS, waitFor } from './helpers/gatehouse.js';

const DAY_MS = 86_400_000;

interface AuditFixture {
  dir: string;
  configPath: string;
  db: SqliteDatabase;
  events: SqliteEventStore;
  checkpoints: SqliteCheckpointStore;
  archive: SqliteAuditArchive;
  signer: AuditSigner;
  keys: TrustedKeys;
  cli(args: string[]): { status: number; stdout: string; stderr: string };
  /** Drops every guard trigger: the attacker has the file. */
  unguard(): void;
  cleanup(): void;
}

/** A store (and the config naming it) with `count` events, a checkpoint signed after every tenth. */
async function fixture(count: number, options: { audit?: Record<string, unknown>; at?: (n: number) => string; type?: (n: number) => EventType } = {}): Promise<AuditFixture> {
  const temp = tempConfig({ store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {}, ...(options.audit ? { audit: options.audit } : {}) });
  const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
  const signer = openSigningKey(path.join(temp.dir, '.gatehouse/audit-signing-key.pem'));
  const f: AuditFixture = {
    dir: temp.dir,
    configPath: temp.configPath,
    db,
    events: new SqliteEventStore(db),
    checkpoints: new SqliteCheckpointStore(db),
    archive: new SqliteAuditArchive(db),
    signer,
    keys: new TrustedKeys([signer.publicKeyPem]),
    cli: (args) => runCli([...args, '--config', temp.configPath]),
    unguard: () =>
      db.exec(
        ['events_no_update', 'events_no_delete', 'audit_checkpoints_no_update', 'audit_checkpoints_no_delete', 'audit_prunes_no_delete', 'audit_prunes_at_checkpoint']
          .map((name) => `DROP TRIGGER IF EXISTS ${name};`)
          .join(''),
      ),
    cleanup: () => {
      db.close();
      temp.cleanup();
    },
  };
  for (let n = 1; n <= count; n++) {
    f.events.append({ type: options.type?.(n) ?? 'tool.call.succeeded', at: options.at?.(n) ?? new Date().toISOString(), agent: 'alice', tool: 'echo', payload: { n } });
    if (n % 10 === 0) await checkpointNow(f);
  }
  return f;
}

async function checkpointNow(f: AuditFixture, signer: AuditSigner = f.signer): Promise<void> {
  const head = (await f.checkpoints.head())!;
  await f.checkpoints.add(signCheckpoint(head, new Date().toISOString(), signer));
}

/** Rewrites events from `fromSeq` on with recomputed hashes, as an attacker who knows the algorithm would. */
function rewriteFrom(db: SqliteDatabase, fromSeq: number, edit: (event: ChainedEvent) => void): void {
  const rows = db.prepare('SELECT seq, type, at, agent, profile, server, tool, payload, prev_hash AS prevHash, hash FROM events WHERE seq >= ? ORDER BY seq').all(fromSeq) as ChainedEvent[];
  let prev = rows[0]!.prevHash!;
  for (const row of rows) {
    if (row.seq === fromSeq) edit(row);
    const hash = eventHash(prev, row);
    db.prepare('UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(row.payload, prev, hash, row.seq);
    prev = hash;
  }
}

test('checkpoints signed by the gateway key verify; a wrong key, an altered signature and a re-hashed rewrite are each found at their position', async () => {
  const f = await fixture(35);
  try {
    const clean = await verifyStore(f, f.keys);
    assert.equal(clean.problem, undefined);
    assert.equal(clean.checkpointsMatched, 3);
    assert.equal(clean.latestCheckpoint, 30);

    const stranger = new TrustedKeys([generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()]);
    assert.deepEqual(pick((await verifyStore(f, stranger)).problem), { kind: 'unknown-key', seq: 10 });

    // The whole suffix rewritten from event 17 with consistent hashes: the chain alone cannot tell, the checkpoint at 20 can.
    f.unguard();
    rewriteFrom(f.db, 17, (event) => (event.payload = '{"n":"forged"}'));
    const rewritten = await verifyStore(f, f.keys);
    assert.deepEqual(pick(rewritten.problem), { kind: 'checkpoint-mismatch', seq: 20 });
    assert.equal(rewritten.problem?.kind === 'checkpoint-mismatch' && rewritten.problem.lastGoodCheckpoint, 10);

    // An attacker who also re-signs needs the key: with another key the signature does not verify.
    const signature = f.db.prepare('SELECT signature FROM audit_checkpoints WHERE seq = 10').pluck().get() as string;
    f.db.prepare('UPDATE audit_checkpoints SET hash = ? WHERE seq = 10').run('f'.repeat(64));
    assert.deepEqual(pick((await verifyStore(f, f.keys)).problem), { kind: 'bad-signature', seq: 10 });
    f.db.prepare('UPDATE audit_checkpoints SET hash = (SELECT hash FROM events WHERE seq = 10), signature = ? WHERE seq = 10').run(signature);
    assert.deepEqual(pick((await verifyStore(f, f.keys)).problem), { kind: 'checkpoint-mismatch', seq: 20 });
    // The time of signing is signed too: a checkpoint cannot be passed off as older or newer than it is.
    f.db.prepare("UPDATE audit_checkpoints SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 10").run();
    assert.deepEqual(pick((await verifyStore(f, f.keys)).problem), { kind: 'bad-signature', seq: 10 });
  } finally {
    f.cleanup();
  }
});

test('truncation: the store\'s own checkpoints catch a cut tail; a checkpoint kept elsewhere catches it when they were cut too (CLI exit codes)', async () => {
  const f = await fixture(45);
  try {
    const kept = f.cli(['audit', 'checkpoint']);
    assert.equal(kept.status, 0, kept.stderr);
    const keptFile = path.join(f.dir, 'kept-checkpoint.json');
    writeFileSync(keptFile, kept.stdout);
    assert.equal(JSON.parse(kept.stdout).seq, 45);
    assert.equal(f.cli(['audit', 'verify', '--checkpoint', keptFile]).status, 0);
    const matched = (...extra: string[]) => JSON.parse(f.cli(['audit', 'verify', '--json', ...extra]).stdout).checkpointsMatched as number;
    assert.equal(matched(), 5, 'four signed by count, one by audit checkpoint');
    assert.equal(matched('--checkpoint', keptFile), 6, 'the kept copy is counted: it was compared, not ignored');
    // A kept checkpoint whose seq is not a number could never be compared: refused, not silently passed.
    const textSeq = path.join(f.dir, 'text-seq.json');
    writeFileSync(textSeq, JSON.stringify({ ...JSON.parse(kept.stdout), seq: '45' }));
    const textSeqResult = f.cli(['audit', 'verify', '--checkpoint', textSeq]);
    assert.equal(textSeqResult.status, 1);
    assert.match(textSeqResult.stderr, /^error GH_AUDIT_FILE_INVALID: .*text-seq\.json:1: not a checkpoint/);

    f.unguard();
    f.db.prepare('DELETE FROM events WHERE seq > 32').run();
    const cut = f.cli(['audit', 'verify']);
    assert.equal(cut.status, 1);
    assert.match(cut.stdout, /audit chain BROKEN at event 33: events from here on are missing: a signed checkpoint \(store\) vouches for the chain up to event 45/);

    // The attacker removes the store's checkpoints beyond the cut as well: the store alone looks whole…
    f.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 32').run();
    const alone = f.cli(['audit', 'verify']);
    assert.equal(alone.status, 0, alone.stdout);
    // …but not next to the checkpoint kept elsewhere.
    const withKept = f.cli(['audit', 'verify', '--checkpoint', keptFile]);
    assert.equal(withKept.status, 1);
    assert.match(withKept.stdout, /BROKEN at event 33: events from here on are missing: a signed checkpoint \(file .*kept-checkpoint\.json\) vouches for the chain up to event 45/);
    const json = JSON.parse(f.cli(['audit', 'verify', '--json', '--checkpoint', keptFile]).stdout);
    assert.deepEqual(pick(json.problem), { kind: 'truncated', seq: 33 });
  } finally {
    f.cleanup();
  }
});

test('an export verifies on its own; an edited, removed or appended line, a cut tail and a foreign key make verify exit 1', async () => {
  const f = await fixture(25);
  try {
    const exported = f.cli(['audit', 'export']);
    assert.equal(exported.status, 0, exported.stderr);
    const lines = exported.stdout.trimEnd().split('\n');
    assert.equal(JSON.parse(lines[0]!).kind, 'header');
    assert.deepEqual(lines.slice(1, 4).map((line) => JSON.parse(line).seq), [10, 20, 25], 'the checkpoints of the range, the last one signed at the last event');
    assert.equal(lines.length, 1 + 3 + 25);
    const verify = (content: string[], extra: string[] = []) => {
      const file = path.join(f.dir, 'export.jsonl');
      writeFileSync(file, `${content.join('\n')}\n`);
      return runCli(['audit', 'verify', '--export', file, ...extra]);
    };
    const ok = verify(lines);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /audit chain OK: 25 events, last 25 .*3 signed checkpoints matched \(latest at 25\).*named by the export itself/);

    const eventLine = (seq: number) => lines.findIndex((line) => line.includes('"kind":"event"') && JSON.parse(line).seq === seq);
    const edited = [...lines];
    edited[eventLine(12)] = edited[eventLine(12)]!.replace('{\\"n\\":12}', '{\\"n\\":1200}');
    assert.notEqual(edited[eventLine(12)], lines[eventLine(12)]);
    assert.match(verify(edited).stdout, /BROKEN at event 12: its content does not match its hash/);

    const removed = lines.filter((_, index) => index !== eventLine(7));
    assert.match(verify(removed).stdout, /BROKEN at event 8: expected event 7 here/);

    const cut = lines.slice(0, eventLine(18));
    const cutResult = verify(cut);
    assert.equal(cutResult.status, 1);
    assert.match(cutResult.stdout, /BROKEN at event 18: events from here on are missing/);

    // A forged event appended with a correct hash: no signed checkpoint covers it.
    const last = JSON.parse(lines[lines.length - 1]!) as ChainedEvent;
    const forged = { ...last, seq: 26, payload: '{"n":26}', prevHash: last.hash! };
    const appended = [...lines, JSON.stringify({ kind: 'event', ...forged, hash: eventHash(last.hash!, forged) })];
    assert.match(verify(appended).stdout, /BROKEN at event 26: no signed checkpoint covers the events from here on/);

    // Every checkpoint line removed: nothing vouches for the file, from its first event on.
    const unsigned = lines.filter((line) => !line.includes('"kind":"checkpoint"'));
    assert.match(verify(unsigned).stdout, /BROKEN at event 1: no signed checkpoint covers the events from here on/);

    // A checkpoint moved after the events would be read too late to be compared: the file is refused.
    const late = verify([...lines.filter((_, index) => index !== 1), lines[1]!]);
    assert.equal(late.status, 1);
    assert.match(late.stderr, /^error GH_AUDIT_FILE_INVALID: .*export\.jsonl:29: a checkpoint after the events/);

    // Re-signed by someone else, with their own key in the header: pinning the real key catches it.
    const other = generateKeyPairSync('ed25519');
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const realKey = path.join(f.dir, 'real.pem');
    writeFileSync(realKey, f.signer.publicKeyPem);
    const strangerKey = path.join(f.dir, 'stranger.pem');
    writeFileSync(strangerKey, otherPem);
    assert.equal(verify(lines, ['--public-key', realKey]).status, 0);
    const foreign = verify(lines, ['--public-key', strangerKey]);
    assert.equal(foreign.status, 1);
    assert.match(foreign.stdout, /BROKEN at event 10: the checkpoint here is signed by key \w+, which is not trusted/);

    // A checkpoint in the store signed by another (say, a retired) key stays out of an export, which names only the key that signs it now.
    const retired: AuditSigner = { keyId: keyIdOf(other.publicKey), publicKeyPem: otherPem, sign: (message) => sign(null, message, other.privateKey) };
    const hash15 = f.db.prepare('SELECT hash FROM events WHERE seq = 15').pluck().get() as string;
    await f.checkpoints.add(signCheckpoint({ seq: 15, hash: hash15 }, new Date().toISOString(), retired));
    const withRetired = f.cli(['audit', 'export']).stdout.trimEnd().split('\n');
    assert.ok(!withRetired.some((line) => line.includes(retired.keyId)));
    assert.equal(verify(withRetired).status, 0);

    // --since: a tail of the log, still verifiable on its own.
    f.db.exec("DROP TRIGGER events_no_update; UPDATE events SET at = '2000-01-01T00:00:00.000Z' WHERE seq <= 15;");
    rehashAll(f.db);
    await checkpointNow(f);
    const tail = f.cli(['audit', 'export', '--since', '2020-01-01']);
    const tailLines = tail.stdout.trimEnd().split('\n');
    assert.equal(JSON.parse(tailLines[0]!).fromSeq, 16);
    const tailResult = verify(tailLines);
    assert.equal(tailResult.status, 0, tailResult.stdout);
    assert.match(tailResult.stdout, /audit chain OK: 10 events, last 25 .*from event 16/);
  } finally {
    f.cleanup();
  }
});

test('an export that starts mid-chain carries the checkpoint just before it, and a first event that links elsewhere is found there', async () => {
  const f = await fixture(25, { at: (n) => (n <= 10 ? new Date(Date.UTC(2000, 0, 1, 0, 0, n)).toISOString() : new Date().toISOString()) });
  try {
    const exported = f.cli(['audit', 'export', '--since', '2020-01-01']);
    assert.equal(exported.status, 0, exported.stderr);
    const parsed = exported.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(parsed[0]!.fromSeq, 11);
    assert.deepEqual(parsed.filter((line) => line.kind === 'checkpoint').map((line) => line.seq), [10, 20, 25], 'the checkpoint at 10 vouches for what event 11 links to');
    // Another history grafted on: event 11 links to a different predecessor, every hash from there on recomputed.
    let prev = 'e'.repeat(64);
    const grafted = parsed.map((line) => {
      if (line.kind !== 'event') return JSON.stringify(line);
      const event = { ...line, prevHash: prev } as unknown as ChainedEvent;
      event.hash = eventHash(prev, event);
      prev = event.hash;
      return JSON.stringify(event);
    });
    const file = path.join(f.dir, 'grafted.jsonl');
    writeFileSync(file, `${grafted.join('\n')}\n`);
    const result = runCli(['audit', 'verify', '--export', file]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /BROKEN at event 10: a signed checkpoint \(export\) vouches for another event here/);
  } finally {
    f.cleanup();
  }
});

test('prune deletes expired events up to a signed checkpoint; the rest verifies from there; per-type retention holds the prefix back; a tampered chain is never pruned', async () => {
  const old = (n: number) => new Date(Date.now() - (n <= 30 ? 9 * 365 : 10) * DAY_MS + n * 1000).toISOString();
  // Event 12 is an approval, kept 10 years by config: it holds back everything after it.
  const f = await fixture(40, { at: old, type: (n) => (n === 12 ? 'approval.granted' : 'tool.call.succeeded'), audit: { retention: { daysByType: { 'approval.granted': 3650 } } } });
  try {
    const held = f.cli(['audit', 'prune', '--dry-run']);
    assert.equal(held.status, 0, held.stderr);
    assert.match(held.stdout, /would delete 11 events through 11; .*event 12 \(approval\.granted, .*\) is still within its retention/);
    assert.equal(await f.events.count(), 40, 'a dry run deletes nothing');

    // With approvals kept as long as the rest, events 1–30 have expired.
    writeFileSync(f.configPath, readFileSync(f.configPath, 'utf8').replace('approval.granted: 3650', 'approval.granted: 30'));
    const pruned = f.cli(['audit', 'prune', '--by', 'auditor']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /deleted 30 events through 30; the chain now starts after the signed checkpoint at 30; event 31 \(tool\.call\.succeeded/);
    assert.equal(await f.events.count(), 11, 'events 31–40 and the audit.pruned event remain');
    assert.deepEqual(
      (await new SqliteRunsStore(f.db).list({ limit: 100 })).map((run) => run.runId).sort(),
      Array.from({ length: 10 }, (_, i) => `event-${31 + i}`).sort(),
      'the runs of the deleted events are gone',
    );
    const [prunedEvent] = await f.events.read({ type: 'audit.pruned' });
    assert.deepEqual({ floorSeq: prunedEvent!.payload.floorSeq, deleted: prunedEvent!.payload.deleted, by: prunedEvent!.payload.by }, { floorSeq: 30, deleted: 30, by: 'auditor' });

    const verified = f.cli(['audit', 'verify']);
    assert.equal(verified.status, 0, verified.stdout);
    assert.match(verified.stdout, /audit chain OK: 11 events, last 41 .*starts after the signed prune at 30.*latest at 41/);
    assert.match(f.cli(['audit', 'prune']).stdout, /nothing to prune; event 31/);

    // The database still refuses a delete above the floor, and a floor that is not a checkpoint.
    assert.throws(() => f.db.prepare('DELETE FROM events WHERE seq = 35').run(), /append-only/);
    assert.throws(() => f.db.prepare("INSERT INTO audit_prunes VALUES (33, 'x', 'k', 's', 1, 'me')").run(), /must be the seq of a signed checkpoint/);

    // An export after the prune verifies too.
    const exported = path.join(f.dir, 'after-prune.jsonl');
    const afterPrune = f.cli(['audit', 'export']).stdout;
    writeFileSync(exported, afterPrune);
    assert.equal(runCli(['audit', 'verify', '--export', exported]).status, 0);
    const exportedLines = afterPrune.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const firstExported = exportedLines.find((line) => line.kind === 'event')!.seq;
    assert.equal(firstExported, 31);
    assert.equal(exportedLines[0]!.fromSeq, firstExported, 'the header names the first event exported, not the pruned 1');
    assert.ok(
      exportedLines.every((line) => line.kind !== 'checkpoint' || (line.seq as number) >= 30),
      'no checkpoint of the pruned part, only the one the first event links to and later ones',
    );

    // A dry run after a prune counts only what is left to delete, not what the earlier prune already did.
    const expiredAfterFiveDays = { defaultDays: 5, daysByType: {} };
    const stores = { checkpoints: f.checkpoints, archive: f.archive, append: (event: GatehouseEvent) => f.events.append(event) };
    const dry = await pruneExpired(stores, f.signer, f.keys, expiredAfterFiveDays, { now: new Date(), by: 'auditor', dryRun: true });
    const stillStored = (await f.events.read()).filter((event) => event.seq <= 40).length;
    assert.deepEqual({ floorSeq: dry.floorSeq, deleted: dry.deleted, previousFloor: dry.previousFloor }, { floorSeq: 40, deleted: stillStored, previousFloor: 30 });
    assert.equal(stillStored, 10);

    // Deleting more of the prefix without a signed prune record is caught, and so is a forged record.
    f.unguard();
    f.db.prepare('DELETE FROM events WHERE seq <= 33').run();
    assert.match(f.cli(['audit', 'verify']).stdout, /BROKEN at event 34: the chain starts here, but this event links neither to the genesis nor to a signed prune/);
    // The floor is signed: the genuine record of the prune at 30, replayed at 33, does not verify.
    const genuine = f.db.prepare('SELECT pruned_at AS at, key_id AS keyId, signature FROM audit_prunes WHERE floor_seq = 30').get() as { at: string; keyId: string; signature: string };
    f.db.prepare("INSERT INTO audit_prunes VALUES (33, ?, ?, ?, 3, 'mallory')").run(genuine.at, genuine.keyId, genuine.signature);
    assert.match(f.cli(['audit', 'verify']).stdout, /BROKEN at event 33: the prune signature here does not verify/);
    f.db.prepare('DELETE FROM audit_prunes WHERE floor_seq = 33').run();
    f.db.prepare("INSERT INTO audit_prunes VALUES (33, ?, ?, ?, 3, 'mallory')").run(new Date().toISOString(), f.signer.keyId, Buffer.alloc(64).toString('base64'));
    assert.match(f.cli(['audit', 'verify']).stdout, /BROKEN at event 33: the prune signature here does not verify/);
  } finally {
    f.cleanup();
  }

  const tampered = await fixture(20, { at: (n) => new Date(Date.now() - 9 * 365 * DAY_MS + n).toISOString() });
  try {
    tampered.db.exec("DROP TRIGGER events_no_update; UPDATE events SET payload = '{}' WHERE seq = 5;");
    const refused = tampered.cli(['audit', 'prune']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /error GH_AUDIT_CHAIN_BROKEN: the audit chain is broken at event 5: its content does not match its hash \(the event was modified\); nothing was pruned/);
    assert.equal(await tampered.events.count(), 20);
  } finally {
    tampered.cleanup();
  }
});

test('the signing key file is created once, mode 0600, and its public key is what verify trusts', async () => {
  const f = await fixture(3);
  try {
    const file = path.join(f.dir, '.gatehouse/audit-signing-key.pem');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(openSigningKey(file).keyId, f.signer.keyId, 'opened again: the same key');
    const printed = f.cli(['audit', 'public-key']);
    assert.equal(printed.stdout, f.signer.publicKeyPem);
    assert.match(f.cli(['audit', 'verify']).stdout, new RegExp(`keys ${f.signer.keyId} \\(of .*audit-signing-key\\.pem\\)`));
    writeFileSync(file, 'not a key');
    const broken = f.cli(['audit', 'checkpoint']);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /error GH_AUDIT_KEY_INVALID: .*audit-signing-key\.pem: not a readable private key/);
    // A key path under a file cannot be created: said as such, not as a stack trace.
    assert.throws(
      () => openSigningKey(path.join(f.configPath, 'key.pem')),
      (error: unknown) => isGatehouseError(error, 'GH_AUDIT_KEY_INVALID') && /^cannot create the audit signing key .*gatehouse\.yaml\/key\.pem: EEXIST/.test(error.message),
    );
  } finally {
    f.cleanup();
  }
});

function pick(problem: { kind: string; seq: number } | undefined): { kind: string; seq: number } | undefined {
  return problem && { kind: problem.kind, seq: problem.seq };
}

/** Recomputes every hash (after an edit the test wants to be legitimate, e.g. older timestamps). */
function rehashAll(db: SqliteDatabase): void {
  rewriteFrom(db, 1, () => undefined);
  db.exec('DROP TRIGGER IF EXISTS audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;');
}

test('a running gateway signs checkpoints by count, by time and at shutdown', async () => {
  for (const [schedule, expectWhileRunning] of [
    [{ checkpointEveryEvents: 3, checkpointEveryMs: 0 }, 'count'],
    [{ checkpointEveryEvents: 0, checkpointEveryMs: 250 }, 'time'],
  ] as const) {
    const temp = tempConfig({
      store: { kind: 'sqlite', path: 'state/gatehouse.db' },
      servers: { everything: SERVERS.everything },
      profiles: { builder: { mode: 'eager', allow: ['everything/echo'] } },
      agents: { alice: { profiles: ['builder'], tokenEnv: 'TEST_TOKEN_ALICE' } },
      audit: schedule,
    });
    const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
    const checkpoints = new SqliteCheckpointStore(db);
    try {
      const gateway = await startServe(temp.configPath);
      try {
        const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
        for (let i = 0; i < 2; i++) await client.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
        // session.opened + 2 × (requested + succeeded): past three events, or one timer tick later.
        await waitFor(async () => (await checkpoints.list()).length > 0, 5_000, `a checkpoint by ${expectWhileRunning}`);
        await client.close();
      } finally {
        await gateway.stop();
      }
      const head = (await checkpoints.head())!;
      assert.equal((await checkpoints.latest())?.seq, head.seq, 'the shutdown checkpoint covers the last event');
      const signer = openSigningKey(path.join(temp.dir, '.gatehouse/audit-signing-key.pem'));
      const report = await verifyStore({ checkpoints, archive: new SqliteAuditArchive(db) }, new TrustedKeys([signer.publicKeyPem]));
      assert.equal(report.problem, undefined);
      assert.ok(report.checkpointsMatched >= 2, `${report.checkpointsMatched} checkpoints (${expectWhileRunning})`);
    } finally {
      db.close();
      temp.cleanup();
    }
  }
});
