import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openSqlite, type SqliteDatabase } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { ChainVerifier, eventHash, type ChainReport } from '../src/core/event-chain.js';
import { REPO, runCli, tempConfig } from './helpers/gatehouse.js';

const run = promisify(execFile);

async function verify(store: SqliteEventStore): Promise<ChainReport> {
  const verifier = new ChainVerifier();
  for await (const event of store.chain()) if (!verifier.next(event)) break;
  return verifier.report();
}

/** A store with 20 events in batches of 1 to 4, and the raw database to play the attacker with. */
async function storeWithEvents(): Promise<{ db: SqliteDatabase; store: SqliteEventStore; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-chain-'));
  const db = openSqlite(path.join(dir, 'gatehouse.db'));
  const store = new SqliteEventStore(db);
  let n = 0;
  while (n < 20) {
    const size = Math.min(1 + (n % 4), 20 - n);
    await store.appendBatch(Array.from({ length: size }, (_, i) => ({ type: 'tool.call.succeeded' as const, at: new Date().toISOString(), agent: 'alice', tool: 'echo', payload: { n: n + i } })));
    n += size;
  }
  // The attacker has the file: the append-only triggers are no obstacle to them.
  db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
  return { db, store, cleanup: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

test('the event hash is pinned: stored chains must keep verifying after any change to how it is computed', () => {
  // SHA-256 over the previous hash, then each field as "<UTF-8 byte length>:<text>" (NULL as "\0null").
  const fields = { seq: 1, type: 'tool.call.succeeded', at: '2026-11-26T16:00:00.000Z', agent: 'ané ✓', profile: null, server: 'everything', tool: 'everything__echo', payload: JSON.stringify({ runId: 'r1', text: 'Grüße 💥' }) };
  assert.equal(eventHash('0'.repeat(64), fields), '04a0e54a4bc1c091c209d8944c692567dc5520199311f820bf3c9776bf260deb');
});

test('an untouched chain verifies, and every kind of tampering is found at its position', async () => {
  const cases: Array<[string, (db: SqliteDatabase) => void, Partial<NonNullable<ChainReport['problem']>>]> = [
    ['payload edited', (db) => db.prepare("UPDATE events SET payload = '{\"n\":999}' WHERE seq = 7").run(), { kind: 'modified', seq: 7 }],
    ['agent edited', (db) => db.prepare("UPDATE events SET agent = 'mallory' WHERE seq = 3").run(), { kind: 'modified', seq: 3 }],
    ['event deleted', (db) => db.prepare('DELETE FROM events WHERE seq = 10').run(), { kind: 'gap', seq: 11 }],
    ['first event deleted', (db) => db.prepare('DELETE FROM events WHERE seq = 1').run(), { kind: 'missing-start', seq: 2 }],
    ['first five events deleted', (db) => db.prepare('DELETE FROM events WHERE seq <= 5').run(), { kind: 'missing-start', seq: 6 }],
    [
      'first five deleted and the rest re-hashed from the genesis',
      (db) => {
        db.prepare('DELETE FROM events WHERE seq <= 5').run();
        let prev = '0'.repeat(64);
        for (const row of db.prepare('SELECT * FROM events ORDER BY seq').all() as Array<Record<string, string | number | null>>) {
          const hash = rehash({ ...row, prev_hash: prev });
          db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, row.seq);
          prev = hash;
        }
      },
      { kind: 'missing-start', seq: 6 },
    ],
    [
      'edited and re-hashed (the attacker knows the algorithm)',
      (db) => {
        db.prepare("UPDATE events SET payload = '{\"n\":-1}' WHERE seq = 12").run();
        const row = db.prepare('SELECT * FROM events WHERE seq = 12').get() as Record<string, string | number | null>;
        db.prepare('UPDATE events SET hash = ? WHERE seq = 12').run(rehash(row));
      },
      { kind: 'broken-link', seq: 13 },
    ],
    [
      'two events swapped',
      (db) => {
        db.exec('UPDATE events SET seq = -5 WHERE seq = 5; UPDATE events SET seq = 5 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = -5;');
      },
      { kind: 'broken-link', seq: 5 },
    ],
    [
      'an event inserted at the end without a hash',
      (db) => db.prepare("INSERT INTO events (seq, type, at, payload) VALUES (21, 'tool.call.succeeded', 'x', '{}')").run(),
      { kind: 'unhashed', seq: 21 },
    ],
  ];
  const clean = await storeWithEvents();
  assert.deepEqual(
    { ...(await verify(clean.store)), lastHash: undefined },
    { checked: 20, firstSeq: 1, start: 'genesis', unchained: 0, lastSeq: 20, lastHash: undefined, problem: undefined },
  );
  clean.cleanup();
  for (const [name, tamper, expected] of cases) {
    const { db, store, cleanup } = await storeWithEvents();
    try {
      tamper(db);
      const report = await verify(store);
      assert.ok(report.problem, `${name}: not detected`);
      assert.deepEqual({ kind: report.problem.kind, seq: report.problem.seq }, expected, name);
    } finally {
      cleanup();
    }
  }
});

/** The hash recomputed with the real function, as an attacker with the source would. */
function rehash(row: Record<string, string | number | null>): string {
  return eventHash(String(row.prev_hash), {
    seq: Number(row.seq),
    type: String(row.type),
    at: String(row.at),
    agent: row.agent as string | null,
    profile: row.profile as string | null,
    server: row.server as string | null,
    tool: row.tool as string | null,
    payload: String(row.payload),
  });
}

test('processes writing to one SQLite file extend one chain', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-chain-'));
  const file = path.join(dir, 'gatehouse.db');
  try {
    openSqlite(file).close(); // migrate once, before the writers race
    const writer = `
      const { openSqlite } = await import(${JSON.stringify(path.join(REPO, 'dist/src/adapters/sqlite/database.js'))});
      const { SqliteEventStore } = await import(${JSON.stringify(path.join(REPO, 'dist/src/adapters/sqlite/event-store.js'))});
      const store = new SqliteEventStore(openSqlite(process.argv[1]));
      for (let i = 0; i < 100; i++) await store.appendBatch([1, 2, 3].map((k) => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), payload: { pid: process.pid, i, k } })));`;
    await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--input-type=module', '-e', writer, file])));
    const store = new SqliteEventStore(openSqlite(file));
    const report = await verify(store);
    assert.equal(report.problem, undefined);
    assert.equal(report.checked, 900);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gatehouse audit verify exits 0 on an intact store and 1, naming the event, on a tampered one', async () => {
  const temp = tempConfig({ store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {} });
  try {
    const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
    const store = new SqliteEventStore(db);
    for (let i = 0; i < 5; i++) await store.append({ type: 'session.opened', at: new Date().toISOString(), payload: { i } });
    const ok = runCli(['audit', 'verify', '--config', temp.configPath]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /audit chain OK: 5 events, last 5/);
    db.exec("DROP TRIGGER events_no_update; UPDATE events SET payload = '{\"i\":42}' WHERE seq = 4;");
    db.close();
    const broken = runCli(['audit', 'verify', '--config', temp.configPath]);
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /audit chain BROKEN at event 4: its content does not match its hash/);
  } finally {
    temp.cleanup();
  }
});
