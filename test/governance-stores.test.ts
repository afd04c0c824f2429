import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SqliteApprovalStore } from '../src/adapters/sqlite/approval-store.js';
import { openSqlite, type SqliteDatabase } from '../src/adapters/sqlite/database.js';
import { SqliteIdempotencyLedger } from '../src/adapters/sqlite/idempotency-ledger.js';
import { SqlitePinStore } from '../src/adapters/sqlite/pin-store.js';
import { SqliteReviewStore } from '../src/adapters/sqlite/review-store.js';
import { governanceStoreContract, type GovernanceStores } from './contracts/governance-stores.js';
import type { RaceReport } from './helpers/governance-race-worker.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function storesOf(db: SqliteDatabase): GovernanceStores {
  return { approvals: new SqliteApprovalStore(db), ledger: new SqliteIdempotencyLedger(db), reviews: new SqliteReviewStore(db), pins: new SqlitePinStore(db) };
}

// Each test gets its own database file; openSecond opens another connection to it, as a second
// process would.
governanceStoreContract('sqlite', async () => {
  const file = path.join(dir, `stores-${++files}.db`);
  const connections = [openSqlite(file)];
  return {
    ...storesOf(connections[0]!),
    openSecond: () => {
      const db = openSqlite(file);
      connections.push(db);
      return storesOf(db);
    },
    close: async () => {
      for (const db of connections) db.close();
    },
  };
});

test('sqlite: processes racing on one file claim each key and consume each grant exactly once', async () => {
  const file = path.join(dir, 'race.db');
  const db = openSqlite(file);
  const { approvals } = storesOf(db);
  const at = new Date().toISOString();
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    const { id } = await approvals.create({
      server: 's', tool: 't', exposedName: 's__t', arguments: {}, agent: 'a', profile: 'p', gate: 'G2', reason: 'r',
      bindingHash: 'h', policyVersion: 'v', requestedAt: at, expiresAt: '9999-12-31T00:00:00.000Z',
    });
    await approvals.decide(id, { approved: true, by: 'op', at });
    ids.push(id);
  }
  const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);

  const worker = fileURLToPath(new URL('./helpers/governance-race-worker.js', import.meta.url));
  const children = Array.from({ length: 4 }, (_, i) => fork(worker, [file, `p${i}`, JSON.stringify(keys), JSON.stringify(ids)]));
  let results: RaceReport[];
  try {
    // Every process has opened the file, and all start at the same instant (each spins until it),
    // so that they really contend for the same key at the same time.
    await Promise.all(children.map((child) => nextMessage(child)));
    const reports = children.map((child) => nextMessage<RaceReport>(child));
    const startAt = Date.now() + 200;
    for (const child of children) child.send(startAt);
    results = await Promise.all(reports);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }

  const claimed = results.flatMap((r) => r.claimed).sort();
  assert.deepEqual(claimed, [...keys].sort(), 'every key claimed exactly once');
  const consumed = results.flatMap((r) => r.consumed).sort();
  assert.deepEqual(consumed, [...ids].sort(), 'every grant consumed exactly once');
  const { ledger } = storesOf(db);
  for (const r of results) for (const key of r.claimed) assert.equal((await ledger.get('a', 's/t', key, at))?.fingerprint, r.tag);
  db.close();
});

/** The next message of a child process; rejects when it exits first, so that a crash fails the test. */
function nextMessage<T = unknown>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`race worker exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}
