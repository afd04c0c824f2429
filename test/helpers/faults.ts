import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { REPO } from './gatehouse.js';

/** The compiled fault-injection server (test/fixtures/fault-server.ts). */
export const FAULT_SERVER = path.join(REPO, 'dist/test/fixtures/fault-server.js');

/** A config entry for one fault server; `env` adds FAULT_* switches. */
export function faultServer(dir: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [FAULT_SERVER],
    env: { FAULT_EXECUTIONS_FILE: path.join(dir, 'executions.jsonl'), FAULT_MARKER_DIR: dir, ...env },
    tools: { lookup: { gate: 'G0' }, record: { gate: 'G1' } },
    ...extra,
  };
}

export interface FaultNote {
  event: 'executed' | 'cancelled';
  tool: string;
  id: string | null;
  fault?: string;
  pid: number;
}

/** What the fault servers of a test folder recorded: executions and cancellations received. */
export function faultNotes(dir: string): FaultNote[] {
  const file = path.join(dir, 'executions.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FaultNote);
}

/** The outcome events of tool calls (one per call), and every event type's count, read from a stopped gateway's store. */
export function countEvents(dbPath: string): { calls: number; byType: Record<string, number> } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT type, COUNT(*) AS n FROM events GROUP BY type').all() as Array<{ type: string; n: number }>;
    const byType = Object.fromEntries(rows.map((row) => [row.type, row.n]));
    const calls = ['tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied'].reduce((sum, type) => sum + (byType[type] ?? 0), 0);
    return { calls, byType };
  } finally {
    db.close();
  }
}

/** Events of some types, in order, with their payloads. */
export function readEvents(dbPath: string, types: readonly string[]): Array<{ type: string; server: string | null; tool: string | null; payload: Record<string, unknown> }> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(`SELECT type, server, tool, payload FROM events WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq`)
      .all(...types) as Array<{ type: string; server: string | null; tool: string | null; payload: string }>;
    return rows.map((row) => ({ ...row, payload: JSON.parse(row.payload) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}
