import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AuditVerifier, type AuditReport, type SourcedCheckpoint } from '../core/audit-verifier.js';
import { parseCheckpoint, signCheckpoint, TrustedKeys, type AuditSigner, type SignedCheckpoint } from '../core/checkpoint.js';
import { GatehouseError } from '../core/errors.js';
import type { ChainedEvent } from '../core/event-chain.js';
import type { AuditStores } from './verify.js';

export const EXPORT_FORMAT = 'gatehouse-audit-export';

/** First line of an export. Not signed: the checkpoints are; the keys here are a convenience, pin them with --public-key. */
export interface ExportHeader {
  kind: 'header';
  format: typeof EXPORT_FORMAT;
  version: 1;
  exportedAt: string;
  /** First and last event exported (undefined when there were none). */
  fromSeq: number | undefined;
  throughSeq: number | undefined;
  publicKeys: Array<{ keyId: string; pem: string }>;
}

/**
 * The lines of an export (JSONL): the header, then the signed checkpoints of the exported range
 * (the last one, signed now, is at the last exported event), then every event with its chain
 * fields, `payload` as the exact stored text the hash covers. Checkpoints come first so that a
 * file cut short is seen as truncated, and a verifier reads the file once.
 */
export async function* exportLines(stores: AuditStores, signer: AuditSigner, options: { since?: string; now: Date }): AsyncGenerator<string> {
  const head = await stores.checkpoints.head();
  const sealed = head ? signCheckpoint(head, options.now.toISOString(), signer) : undefined;
  if (sealed) await stores.checkpoints.add(sealed);
  const fromSeq = !head ? undefined : options.since === undefined ? await firstStoredSeq(stores) : await stores.archive.firstSeqAtOrAfter(options.since);
  const throughSeq = fromSeq === undefined || !head || fromSeq > head.seq ? undefined : head.seq;
  const header: ExportHeader = {
    kind: 'header',
    format: EXPORT_FORMAT,
    version: 1,
    exportedAt: options.now.toISOString(),
    fromSeq: throughSeq === undefined ? undefined : fromSeq,
    throughSeq,
    publicKeys: [{ keyId: signer.keyId, pem: signer.publicKeyPem }],
  };
  yield JSON.stringify(header);
  if (throughSeq === undefined || fromSeq === undefined) return;
  // Earlier checkpoints of the range (by this key) too: more places where a copy can be compared.
  const checkpoints = (await stores.checkpoints.list()).filter((c) => c.keyId === signer.keyId && c.seq >= fromSeq - 1 && c.seq < throughSeq);
  for (const checkpoint of [...checkpoints, sealed!]) yield JSON.stringify({ kind: 'checkpoint', ...checkpoint });
  for await (const event of stores.archive.events({ afterSeq: fromSeq - 1, throughSeq })) yield JSON.stringify({ kind: 'event', ...event });
}

/** The first event still stored: 1, unless a prune deleted the ones before it. */
async function firstStoredSeq(stores: AuditStores): Promise<number | undefined> {
  for await (const event of stores.archive.events()) return event.seq;
  return undefined;
}

/** Reads the lines of an export or checkpoint file one at a time, parsed. */
async function* fileObjects(file: string): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  const input = createReadStream(file);
  // Opening fails asynchronously (ENOENT, EISDIR, EACCES): caught here, before the first line is awaited.
  await new Promise<void>((resolve, reject) => {
    input.once('readable', resolve);
    input.once('error', (error) => reject(new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}: cannot read it: ${error.message}`, { file }, { cause: error })));
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: not a JSON line`, { file, line });
    }
    if (value === null || typeof value !== 'object') throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: not a JSON object`, { file, line });
    yield { line, value: value as Record<string, unknown> };
  }
}

/**
 * Verifies an export on its own: the chain from its first event to its last, which must be a
 * checkpoint signed by a trusted key (`publicKeyPems`, else the keys its header names).
 */
export async function verifyExport(file: string, publicKeyPems: readonly string[] | undefined): Promise<AuditReport & { keyIds: string[] }> {
  let verifier: AuditVerifier | undefined;
  let keys: TrustedKeys | undefined;
  const checkpoints: SourcedCheckpoint[] = [];
  const begin = () => (verifier ??= new AuditVerifier({ keys: keys!, checkpoints, mode: 'export' }));
  for await (const { line, value } of fileObjects(file)) {
    if (line === 1 || value.kind === 'header') {
      if (value.kind !== 'header' || value.format !== EXPORT_FORMAT) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}: not a gatehouse audit export (no header line)`, { file });
      const pems = publicKeyPems ?? (Array.isArray(value.publicKeys) ? value.publicKeys.map((key) => String((key as { pem?: unknown }).pem)) : []);
      keys = new TrustedKeys(pems);
    } else if (value.kind === 'checkpoint') {
      if (verifier) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: a checkpoint after the events`, { file, line });
      const checkpoint = parseCheckpoint(value);
      if (!checkpoint) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: not a checkpoint`, { file, line });
      checkpoints.push({ ...checkpoint, source: 'export' });
    } else if (value.kind === 'event') {
      if (!begin().next(toChainedEvent(value, file, line))) break;
    } else throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: unknown line kind ${JSON.stringify(value.kind)}`, { file, line });
  }
  if (!keys) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}: empty file`, { file });
  return { ...begin().finish(), keyIds: keys.ids };
}

/** The checkpoints in a file kept elsewhere: one checkpoint as JSON (`gatehouse audit checkpoint`), or an export. */
export async function readCheckpointFile(file: string): Promise<SourcedCheckpoint[]> {
  const found: SignedCheckpoint[] = [];
  for await (const { line, value } of fileObjects(file)) {
    if (value.kind === 'event') break; // an export: its checkpoints come before its events
    if (value.kind === 'header') continue;
    const checkpoint = parseCheckpoint(value);
    if (!checkpoint) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: not a checkpoint`, { file, line });
    found.push(checkpoint);
  }
  if (found.length === 0) throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}: holds no checkpoint`, { file });
  return found.map((checkpoint) => ({ ...checkpoint, source: `file ${file}` }));
}

function toChainedEvent(value: Record<string, unknown>, file: string, line: number): ChainedEvent {
  const text = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : null);
  if (!Number.isInteger(value.seq) || typeof value.type !== 'string' || typeof value.at !== 'string' || typeof value.payload !== 'string') {
    throw new GatehouseError('GH_AUDIT_FILE_INVALID', `${file}:${line}: an event needs seq, type, at and payload (the stored JSON text)`, { file, line });
  }
  return {
    seq: value.seq as number,
    type: value.type,
    at: value.at,
    agent: text('agent'),
    profile: text('profile'),
    server: text('server'),
    tool: text('tool'),
    payload: value.payload,
    prevHash: text('prevHash'),
    hash: text('hash'),
  };
}
