import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteApprovalStore } from '../src/adapters/sqlite/approval-store.js';
import { openSqlite, type SqliteDatabase } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { SqliteIdempotencyLedger } from '../src/adapters/sqlite/idempotency-ledger.js';
import { SqlitePinStore } from '../src/adapters/sqlite/pin-store.js';
import { SqliteReviewStore } from '../src/adapters/sqlite/review-store.js';
import { SqliteAuditArchive } from '../src/adapters/sqlite/audit-archive.js';
import { SqliteCheckpointStore } from '../src/adapters/sqlite/checkpoint-store.js';
import { SqliteRunsStore } from '../src/adapters/sqlite/runs-store.js';
import { auditStoresContract, type AuditPorts } from './contracts/audit-stores.js';
import { eventStoreContract } from './contracts/event-store.js';
import { deadLetterStoreContract } from './contracts/dead-letter-store.js';
import { SqliteDeadLetterStore } from '../src/adapters/sqlite/dead-letter-store.js';
import { governanceStoreContract, type GovernanceStores } from './contracts/governance-stores.js';
import { cacheAndKeyStoreContract } from './contracts/schema-cache-and-keys.js';
import { SqliteKeyStore } from '../src/adapters/sqlite/key-store.js';
import { SqliteSchemaCache } from '../src/adapters/sqlite/schema-cache.js';
import { raceAcrossProcesses } from './helpers/store-race.js';
import { processRegistryContract } from './contracts/process-registry.js';
import { SqliteProcessRegistry } from '../src/adapters/sqlite/process-registry.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function storesOf(db: SqliteDatabase): GovernanceStores {
  return { approvals: new SqliteApprovalStore(db), ledger: new SqliteIdempotencyLedger(db), reviews: new SqliteReviewStore(db), pins: new SqlitePinStore(db) };
}

/** A fresh database file, and every connection opened to it (openSecond opens another, as a second process would). */
function freshFile(): { first: SqliteDatabase; another: () => SqliteDatabase; close: () => Promise<void> } {
  const file = path.join(dir, `stores-${++files}.db`);
  const connections = [openSqlite(file)];
  return {
    first: connections[0]!,
    another: () => {
      const db = openSqlite(file);
      connections.push(db);
      return db;
    },
    close: async () => {
      for (const db of connections) db.close();
    },
  };
}

governanceStoreContract('sqlite', async () => {
  const { first, another, close } = freshFile();
  return { ...storesOf(first), openSecond: () => storesOf(another()), close };
});

processRegistryContract('sqlite', async () => {
  const { first, close } = freshFile();
  return { processes: new SqliteProcessRegistry(first), ledger: new SqliteIdempotencyLedger(first), close };
});

deadLetterStoreContract('sqlite', async () => {
  const { first, close } = freshFile();
  return { letters: new SqliteDeadLetterStore(first), close };
});

eventStoreContract('sqlite', async () => {
  const { first, another, close } = freshFile();
  return {
    events: new SqliteEventStore(first),
    openSecond: async () => new SqliteEventStore(another()),
    raw: async (sql) => void first.prepare(sql).run(),
    close,
  };
});

cacheAndKeyStoreContract('sqlite', async () => {
  const { first, another, close } = freshFile();
  return { cache: new SqliteSchemaCache(first), keys: new SqliteKeyStore(first), openSecondKeys: async () => new SqliteKeyStore(another()), close };
});

function auditPortsOf(db: SqliteDatabase): AuditPorts {
  return { events: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db), archive: new SqliteAuditArchive(db), runs: new SqliteRunsStore(db) };
}

/** The guard triggers of migrations 001 and 006, which an attacker holding the file can drop. */
const GUARDS = ['events_no_update', 'events_no_delete', 'audit_checkpoints_no_update', 'audit_checkpoints_no_delete', 'audit_prunes_no_update', 'audit_prunes_no_delete', 'audit_prunes_at_checkpoint'];

auditStoresContract('sqlite', async () => {
  const { first, another, close } = freshFile();
  return {
    ...auditPortsOf(first),
    openSecond: async () => auditPortsOf(another()),
    raw: async (sql) => void first.exec(sql),
    unguard: async () => void first.exec(GUARDS.map((name) => `DROP TRIGGER IF EXISTS ${name};`).join('')),
    close,
  };
});

test('sqlite: store.durability reaches the connection: process is synchronous=NORMAL, power is FULL', () => {
  const file = path.join(dir, 'durability.db');
  for (const [durability, synchronous] of [[undefined, 1], ['process', 1], ['power', 2]] as const) {
    const db = openSqlite(file, durability ? { durability } : {});
    assert.equal(db.pragma('synchronous', { simple: true }), synchronous, `durability ${durability}`);
    db.close();
  }
});

test('sqlite: processes racing on one file claim each key and consume each grant exactly once, and append one chain', async () => {
  await raceAcrossProcesses({ kind: 'sqlite', path: path.join(dir, 'race.db'), durability: 'process' });
});
