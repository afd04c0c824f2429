import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresApprovalStore } from '../src/adapters/postgres/approval-store.js';
import { PostgresDatabase } from '../src/adapters/postgres/database.js';
import { PostgresEventStore } from '../src/adapters/postgres/event-store.js';
import { PostgresIdempotencyLedger } from '../src/adapters/postgres/idempotency-ledger.js';
import { PostgresKeyStore } from '../src/adapters/postgres/key-store.js';
import { PostgresPinStore } from '../src/adapters/postgres/pin-store.js';
import { PostgresReviewStore } from '../src/adapters/postgres/review-store.js';
import { PostgresSchemaCache } from '../src/adapters/postgres/schema-cache.js';
import { isGatehouseError } from '../src/core/errors.js';
import { PostgresAuditArchive } from '../src/adapters/postgres/audit-archive.js';
import { PostgresCheckpointStore } from '../src/adapters/postgres/checkpoint-store.js';
import { PostgresRunsStore } from '../src/adapters/postgres/runs-store.js';
import { auditStoresContract, type AuditPorts } from './contracts/audit-stores.js';
import { eventStoreContract } from './contracts/event-store.js';
import { deadLetterStoreContract } from './contracts/dead-letter-store.js';
import { PostgresDeadLetterStore } from '../src/adapters/postgres/dead-letter-store.js';
import { governanceStoreContract, type GovernanceStores } from './contracts/governance-stores.js';
import { cacheAndKeyStoreContract } from './contracts/schema-cache-and-keys.js';
import { postgresForThisFile } from './helpers/postgres.js';
import { raceAcrossProcesses } from './helpers/store-race.js';
import { processRegistryContract } from './contracts/process-registry.js';
import { PostgresProcessRegistry } from '../src/adapters/postgres/process-registry.js';

// A real PostgreSQL cluster, started for this file; each test gets its own database.
const postgres = postgresForThisFile();

function storesOf(db: PostgresDatabase): GovernanceStores {
  return { approvals: new PostgresApprovalStore(db), ledger: new PostgresIdempotencyLedger(db), reviews: new PostgresReviewStore(db), pins: new PostgresPinStore(db) };
}

/** A fresh database, and every connection pool opened to it (another() opens one more, as a second gateway would). */
async function freshDatabase(): Promise<{ url: string; first: PostgresDatabase; another: () => Promise<PostgresDatabase>; close: () => Promise<void> }> {
  const url = await postgres.freshDatabase();
  const pools = [await PostgresDatabase.open(url)];
  return {
    url,
    first: pools[0]!,
    another: async () => {
      const db = await PostgresDatabase.open(url);
      pools.push(db);
      return db;
    },
    close: async () => {
      for (const db of pools) await db.close();
    },
  };
}

governanceStoreContract('postgres', async () => {
  const { first, another, close } = await freshDatabase();
  return { ...storesOf(first), openSecond: async () => storesOf(await another()), close };
});

processRegistryContract('postgres', async () => {
  const { first, close } = await freshDatabase();
  return { processes: new PostgresProcessRegistry(first), ledger: new PostgresIdempotencyLedger(first), close };
});

deadLetterStoreContract('postgres', async () => {
  const { first, close } = await freshDatabase();
  return { letters: new PostgresDeadLetterStore(first), close };
});

eventStoreContract('postgres', async () => {
  const { first, another, close } = await freshDatabase();
  return {
    events: new PostgresEventStore(first),
    openSecond: async () => new PostgresEventStore(await another()),
    raw: async (sql) => void (await first.query(sql)),
    close,
  };
});

function auditPortsOf(db: PostgresDatabase): AuditPorts {
  return { events: new PostgresEventStore(db), checkpoints: new PostgresCheckpointStore(db), archive: new PostgresAuditArchive(db), runs: new PostgresRunsStore(db) };
}

auditStoresContract('postgres', async () => {
  const { first, another, close } = await freshDatabase();
  return {
    ...auditPortsOf(first),
    openSecond: async () => auditPortsOf(await another()),
    raw: async (sql) => void (await first.query(sql)),
    unguard: async () => void (await first.query(['events', 'audit_checkpoints', 'audit_prunes'].map((table) => `ALTER TABLE ${table} DISABLE TRIGGER USER;`).join(''))),
    close,
  };
});

test('postgres: the cluster under test is PostgreSQL 15 or later on loopback', () => {
  assert.ok(postgres.cluster().version >= 15, `version ${postgres.cluster().version}`);
});

test('postgres: store.durability reaches every connection, whatever the database default: power is synchronous_commit on, process off', async () => {
  const url = await postgres.freshDatabase();
  await postgres.cluster().sql(`ALTER DATABASE ${url.split('/').at(-1)} SET synchronous_commit = local`);
  for (const [durability, expected] of [[undefined, 'on'], ['power', 'on'], ['process', 'off']] as const) {
    const db = await PostgresDatabase.open(url, durability ? { durability, poolSize: 3 } : { poolSize: 3 });
    try {
      // Several at once, so that they are several connections of the pool.
      const settings = await Promise.all([1, 2, 3].map(async () => (await db.query<{ synchronous_commit: string }>('SELECT pg_sleep(0.05), current_setting(\'synchronous_commit\') AS synchronous_commit')).rows[0]!.synchronous_commit));
      assert.deepEqual(settings, [expected, expected, expected], `durability ${durability}`);
    } finally {
      await db.close();
    }
  }
});

test('postgres: TRUNCATE of the events is refused too', async () => {
  const { first, close } = await freshDatabase();
  try {
    await new PostgresEventStore(first).append({ type: 'session.opened', at: new Date().toISOString(), payload: {} });
    await assert.rejects(first.query('TRUNCATE events'), /append-only/);
    assert.equal(await new PostgresEventStore(first).count(), 1);
  } finally {
    await close();
  }
});

test('postgres: processes starting together on an empty database apply each migration once', async () => {
  const url = await postgres.freshDatabase();
  const pools = await Promise.all(Array.from({ length: 6 }, () => PostgresDatabase.open(url)));
  try {
    const { rows } = await pools[0]!.query<{ version: number; n: string }>('SELECT version, count(*) AS n FROM migrations GROUP BY version ORDER BY version');
    assert.ok(rows.length >= 1);
    assert.ok(rows.every((row) => Number(row.n) === 1), JSON.stringify(rows));
    // Reopening applies nothing again.
    const again = await PostgresDatabase.open(url);
    await again.close();
    assert.equal((await pools[0]!.query('SELECT * FROM migrations')).rowCount, rows.length);
  } finally {
    for (const db of pools) await db.close();
  }
});

cacheAndKeyStoreContract('postgres', async () => {
  const { first, another, close } = await freshDatabase();
  return { cache: new PostgresSchemaCache(first), keys: new PostgresKeyStore(first), openSecondKeys: async () => new PostgresKeyStore(await another()), close };
});

test('postgres: approval decisions are pushed to every process listening (NOTIFY on commit)', async () => {
  const { first, another, close } = await freshDatabase();
  try {
    const listener = new PostgresApprovalStore(await another());
    const heard: string[] = [];
    await listener.watchDecisions((id) => heard.push(id));
    const store = new PostgresApprovalStore(first);
    const at = new Date().toISOString();
    const request = { server: 's', tool: 't', exposedName: 's__t', arguments: {}, agent: 'a', profile: 'p', gate: 'G2' as const, reason: 'r', bindingHash: 'h', policyVersion: 'v', requestedAt: at, expiresAt: '9999-01-01T00:00:00.000Z' };
    const approved = await store.create(request);
    const expired = await store.create(request);
    const untouched = await store.create(request);
    await store.decide(approved.id, { approved: true, by: 'op', at });
    await store.expire(expired.id, at);
    await store.consume(approved.id, 'h', at); // approved → consumed is not a decision
    await store.decide(untouched.id, { approved: true, by: 'op', at: '9999-02-01T00:00:00.000Z' }); // refused: past expiresAt
    const until = Date.now() + 5_000;
    while (heard.length < 2 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(heard, [approved.id, expired.id]);
  } finally {
    await close();
  }
});

test('postgres: a listening connection that is lost is reopened, also when the database refuses connections for a while', async () => {
  const { url, first, another, close } = await freshDatabase();
  const name = url.split('/').at(-1)!;
  try {
    const listening = await another();
    const heard: string[] = [];
    await listening.listen('gatehouse_test_channel', (payload) => heard.push(payload));
    /** NOTIFY until the listener hears it (a reconnected listener misses what was sent while it was away). */
    const heardWithin = async (payload: string, ms: number): Promise<boolean> => {
      for (const until = Date.now() + ms; Date.now() < until; ) {
        await first.query('SELECT pg_notify($1, $2)', ['gatehouse_test_channel', payload]);
        if (heard.includes(payload)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    assert.ok(await heardWithin('before', 5_000));
    // A second channel, once the connection listens already, is listened on too.
    const other: string[] = [];
    await listening.listen('gatehouse_other_channel', (payload) => other.push(payload));
    await first.query("SELECT pg_notify('gatehouse_other_channel', 'second')");
    for (const until = Date.now() + 5_000; other.length === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(other, ['second']);
    // The listener's connection is killed while no new connection is let in: the first attempt to reopen it, a second later, fails.
    await postgres.cluster().sql(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await postgres.cluster().sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND query LIKE 'LISTEN%'`);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await postgres.cluster().sql(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    assert.ok(await heardWithin('after', 5_000), 'the listener is back once connections are let in again');
  } finally {
    await postgres.cluster().sql(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await close();
  }
});

test('postgres: pin changes from two gateways at once each get a version of their own', async () => {
  const { first, another, close } = await freshDatabase();
  try {
    const stores = [new PostgresPinStore(first), new PostgresPinStore(await another())];
    await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.pin('srv', `tool_${i}`, 'h', { i }, new Date().toISOString())));
    // Two changes with one version: a reader that saw the first would never look again for the second.
    const { rows } = await first.query<{ n: number; versions: number }>('SELECT count(*)::int AS n, count(DISTINCT version)::int AS versions FROM tool_pins');
    assert.deepEqual(rows[0], { n: 40, versions: 40 });
  } finally {
    await close();
  }
});

test('postgres: an unreachable database is GH_STORE_UNAVAILABLE, without the password in the message', async () => {
  const url = postgres.cluster().url('postgres').replace('postgres@', 'postgres:s3cret@').replace(/:(\d+)\//, ':1/');
  await assert.rejects(PostgresDatabase.open(url), (error) => {
    assert.ok(isGatehouseError(error, 'GH_STORE_UNAVAILABLE'), String(error));
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});

test('postgres: a store that went away is GH_STORE_UNAVAILABLE during use too; a refusal by the database stays itself', async () => {
  const { first, another, close } = await freshDatabase();
  try {
    const events = new PostgresEventStore(first);
    await events.append({ type: 'session.opened', at: new Date().toISOString(), payload: {} });
    await assert.rejects(first.query("UPDATE events SET type = 'x'"), (error) => !isGatehouseError(error) && /append-only/.test((error as Error).message));
    const gone = await another();
    await gone.close();
    await assert.rejects(new PostgresIdempotencyLedger(gone).get('a', 't', 'k', new Date().toISOString()), (error) => isGatehouseError(error, 'GH_STORE_UNAVAILABLE'));
    await assert.rejects(new PostgresEventStore(gone).append({ type: 'session.opened', at: new Date().toISOString(), payload: {} }), (error) => isGatehouseError(error, 'GH_STORE_UNAVAILABLE'));
    assert.equal(await events.count(), 1);
  } finally {
    await close();
  }
});

test('postgres: processes racing on one database claim each key and consume each grant exactly once, and append one chain', async () => {
  // Fewer than on SQLite: each claim is a network round trip here, and contention, not volume, is the point.
  await raceAcrossProcesses({ kind: 'postgres', url: await postgres.freshDatabase(), poolSize: 10, durability: 'process' }, { keys: 400, grants: 100 });
});
