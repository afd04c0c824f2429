/**
 * Runs-view benchmark: fills a store with 1,000,000 audit events through the real event store
 * (hash chain included), projects them into the runs table (the real adapter's refresh), then
 * times filtered runs queries through the real runs adapter: by status and time, by agent, by
 * run id, and a few combinations. Also times `verifyStore` over the whole chain. On SQLite (a
 * temp file) and on PostgreSQL (a throwaway cluster on loopback, fsync on), or both.
 * Run with `npm run bench:runs [-- --store sqlite|postgres|both]` (EVENTS=200000 for a quicker run).
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { openSigningKey } from '../src/adapters/fs/audit-signing-key.js';
import { SqliteAuditArchive } from '../src/adapters/sqlite/audit-archive.js';
import { SqliteCheckpointStore } from '../src/adapters/sqlite/checkpoint-store.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { SqliteRunsStore } from '../src/adapters/sqlite/runs-store.js';
import { PostgresAuditArchive } from '../src/adapters/postgres/audit-archive.js';
import { PostgresCheckpointStore } from '../src/adapters/postgres/checkpoint-store.js';
import { PostgresDatabase } from '../src/adapters/postgres/database.js';
import { PostgresEventStore } from '../src/adapters/postgres/event-store.js';
import { PostgresRunsStore } from '../src/adapters/postgres/runs-store.js';
import { verifyStore } from '../src/audit/verify.js';
import { signCheckpoint, TrustedKeys, type AuditSigner } from '../src/core/checkpoint.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { newRunId } from '../src/core/run-id.js';
import type { AuditArchive } from '../src/ports/audit-archive.js';
import type { CheckpointStore } from '../src/ports/checkpoint-store.js';
import type { EventStore } from '../src/ports/event-store.js';
import type { RunFilter, RunStatus, RunsStore } from '../src/ports/runs-store.js';
import { Cleanup } from './lib/cleanup.js';
import { percentiles } from './lib/percentiles.js';
import { startPostgres } from './lib/postgres.js';
import { writeResults } from './lib/results.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { makeTempDir } from './lib/temp-dir.js';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const BATCH = 5_000;
const QUERIES = 500;
const TARGET_P99_MS = 50;
const SPAN_MS = 30 * 24 * 3_600_000;
const AGENTS = Array.from({ length: 50 }, (_, i) => `agent-${String(i).padStart(2, '0')}`);
const SERVERS = Array.from({ length: 20 }, (_, i) => `server-${i}`);
const TOOLS = ['search', 'read', 'list', 'get', 'create', 'update', 'delete', 'send', 'query', 'describe'];
/** Outcome mix of the calls: most succeed; a few fail, are held or denied. */
const OUTCOMES: Array<[weight: number, type: GatehouseEvent['type'], outcome: string, code: string | undefined]> = [
  [0.86, 'tool.call.succeeded', 'ok', undefined],
  [0.04, 'tool.call.succeeded', 'tool_error', undefined],
  [0.05, 'tool.call.failed', 'error', 'GH_DOWNSTREAM_TIMEOUT'],
  [0.03, 'tool.call.held', 'held', 'GH_APPROVAL_PENDING'],
  [0.02, 'policy.denied', 'denied', 'GH_APPROVAL_REJECTED'],
];

/** A small seeded generator (mulberry32), so that every run fills the same store. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Agent activity is skewed (Zipf-like): a few agents make most of the calls. */
function pickAgent(rand: () => number): string {
  return AGENTS[Math.min(AGENTS.length - 1, Math.floor(AGENTS.length ** rand() - 1))]!;
}

function* events(total: number, rand: () => number, start: number, runIds: string[]): Generator<GatehouseEvent> {
  let n = 0;
  const at = () => new Date(start + (n / total) * SPAN_MS).toISOString();
  while (n < total) {
    const agent = pickAgent(rand);
    const profile = `profile-${agent.slice(-1)}`;
    const session = `s-${agent}-${Math.floor(n / 500)}`;
    if (rand() < 0.06 || n === total - 1) {
      const type = (['session.opened', 'session.closed', 'tools.listed', 'approval.requested', 'approval.granted'] as const)[Math.floor(rand() * 5)]!;
      n += 1;
      yield { type, at: at(), agent, profile, payload: { session } };
      continue;
    }
    const runId = newRunId(start + (n / total) * SPAN_MS);
    runIds.push(runId);
    const server = SERVERS[Math.floor(rand() * SERVERS.length)]!;
    const tool = TOOLS[Math.floor(rand() * TOOLS.length)]!;
    const startedAt = at();
    n += 1;
    yield { type: 'tool.call.requested', at: startedAt, agent, profile, tool: `${server}__${tool}`, payload: { runId, via: 'direct', session } };
    // The last few hundred calls are still running: no outcome yet.
    if (n > total - 400) continue;
    let pick = rand();
    const [, type, outcome, code] = OUTCOMES.find(([weight]) => (pick -= weight) < 0) ?? OUTCOMES[0]!;
    const gate = type === 'tool.call.held' || type === 'policy.denied' ? 'G2' : rand() < 0.7 ? 'G0' : 'G1';
    const durationMs = round(1 + rand() * rand() * 2000, 3);
    n += 1;
    yield { type, at: startedAt, agent, profile, server, tool, payload: { runId, via: 'direct', session, gate, durationMs, outcome, ...(code ? { stage: 'govern', code, message: code } : {}) } };
  }
}

type StoreKind = 'sqlite' | 'postgres';

/** One connection's ports, what the report says about the store, and how to close it. */
interface OpenedStore {
  events: EventStore;
  checkpoints: CheckpointStore;
  archive: AuditArchive;
  runs: RunsStore;
  stats(): Promise<{ runCount: number; statusCounts: Record<string, number>; sizeMb: number }>;
  close(): Promise<void>;
}

/** Opens a connection to the benchmark's store of that kind, as `gatehouse runs` would. */
type Opener = (phase: 'fill' | 'query') => Promise<OpenedStore>;

function sqliteOpener(file: string): Opener {
  return async (phase) => {
    const db = openSqlite(file);
    if (phase === 'fill') db.pragma('cache_size = -262144'); // 256 MB for the bulk fill only: the index pages stay in memory
    return {
      events: new SqliteEventStore(db),
      checkpoints: new SqliteCheckpointStore(db),
      archive: new SqliteAuditArchive(db),
      runs: new SqliteRunsStore(db),
      stats: async () => ({
        runCount: db.prepare('SELECT count(*) FROM runs').pluck().get() as number,
        statusCounts: Object.fromEntries((db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status').all() as Array<{ status: string; n: number }>).map((row) => [row.status, row.n])),
        sizeMb: (db.prepare('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck().get() as number) / 1e6,
      }),
      close: async () => void db.close(),
    };
  };
}

function postgresOpener(url: string): Opener {
  return async () => {
    const db = await PostgresDatabase.open(url, { poolSize: 2 });
    return {
      events: new PostgresEventStore(db),
      checkpoints: new PostgresCheckpointStore(db),
      archive: new PostgresAuditArchive(db),
      runs: new PostgresRunsStore(db),
      stats: async () => ({
        runCount: Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM runs')).rows[0]!.n),
        statusCounts: Object.fromEntries((await db.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM runs GROUP BY status')).rows.map((row) => [row.status, Number(row.n)])),
        sizeMb: Number((await db.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size) / 1e6,
      }),
      close: () => db.close(),
    };
  };
}

async function benchStore(kind: StoreKind, open: Opener, signer: AuditSigner): Promise<Record<string, unknown>> {
  const rand = random(42);
  const start = Date.now() - SPAN_MS;
  const runIds: string[] = [];

  // Fill: the real append path (hash chain) in batches of 5000, a signed checkpoint after each.
  let store = await open('fill');
  const fillStarted = performance.now();
  let batch: GatehouseEvent[] = [];
  let written = 0;
  for (const event of events(EVENTS, rand, start, runIds)) {
    batch.push(event);
    if (batch.length < BATCH) continue;
    await store.events.appendBatch(batch);
    written += batch.length;
    batch = [];
    await store.checkpoints.add(signCheckpoint((await store.checkpoints.head())!, new Date().toISOString(), signer));
    if (written % 100_000 === 0) process.stderr.write(`  ${kind}: ${written} events\n`);
  }
  if (batch.length > 0) await store.events.appendBatch(batch);
  await store.checkpoints.add(signCheckpoint((await store.checkpoints.head())!, new Date().toISOString(), signer));
  const fillMs = performance.now() - fillStarted;
  // The projection of every call event into the runs table, as `gatehouse runs` would do it on a store never projected.
  const projectStarted = performance.now();
  await store.runs.refresh();
  const projectMs = performance.now() - projectStarted;
  const { runCount, statusCounts, sizeMb } = await store.stats();
  await store.close();

  // Queries on a fresh connection, as `gatehouse runs` would open it (no ANALYZE was run by the benchmark).
  store = await open('query');
  const qrand = random(7);
  const statuses: RunStatus[] = ['failed', 'denied', 'held', 'succeeded', 'running'];
  const recent = (hours: number) => new Date(start + SPAN_MS - qrand() * hours * 3_600_000).toISOString();
  const queries: Array<[name: string, filter: () => RunFilter]> = [
    ['status + since 24h', () => ({ status: statuses[Math.floor(qrand() * statuses.length)]!, since: recent(24), limit: 50 })],
    ['status + since 30d', () => ({ status: statuses[Math.floor(qrand() * 3)]!, since: new Date(start).toISOString(), limit: 50 })],
    ['agent', () => ({ agent: AGENTS[Math.floor(qrand() * AGENTS.length)]!, limit: 50 })],
    ['agent + status', () => ({ agent: AGENTS[Math.floor(qrand() * AGENTS.length)]!, status: statuses[Math.floor(qrand() * 3)]!, limit: 50 })],
    ['run id', () => ({ runId: runIds[Math.floor(qrand() * runIds.length)]!, limit: 50 })],
    ['since 1h (no status)', () => ({ since: recent(1), limit: 50 })],
    ['latest 50', () => ({ limit: 50 })],
  ];
  const rows: Array<(string | number)[]> = [];
  const figures: Record<string, { p50Ms: number; p99Ms: number; maxMs: number; meanRows: number }> = {};
  for (const [name, filter] of queries) {
    const latencies: number[] = [];
    let rowsReturned = 0;
    for (let i = 0; i < QUERIES; i++) {
      const f = filter();
      const started = performance.now();
      rowsReturned += (await store.runs.list(f)).length;
      latencies.push(performance.now() - started);
    }
    const [p50, p99] = percentiles(latencies, [50, 99]);
    figures[name] = { p50Ms: round(p50!, 3), p99Ms: round(p99!, 3), maxMs: round(Math.max(...latencies), 3), meanRows: round(rowsReturned / QUERIES, 1) };
    rows.push([name, p50!.toFixed(3), p99!.toFixed(3), Math.max(...latencies).toFixed(3), (rowsReturned / QUERIES).toFixed(1)]);
  }

  // The whole chain verified, with every checkpoint signature.
  const verifyStarted = performance.now();
  const report = await verifyStore(store, new TrustedKeys([signer.publicKeyPem]));
  const verifyMs = performance.now() - verifyStarted;
  await store.close();

  const load = loadavg().map((value) => round(value, 1));
  const worstP99 = Math.max(...Object.values(figures).map((figure) => figure.p99Ms));
  console.log(`\n${kind} store: ${EVENTS} events (${runCount} runs: ${Object.entries(statusCounts).map(([s, n]) => `${s} ${n}`).join(', ')}), ${sizeMb.toFixed(0)} MB`);
  console.log(`fill: ${(fillMs / 1000).toFixed(1)} s through the ${kind} EventStore.appendBatch (batches of ${BATCH}, hash chain), ${Math.round(EVENTS / (fillMs / 1000))} events/s`);
  console.log(`runs projection of all of them: ${(projectMs / 1000).toFixed(1)} s, ${Math.round(EVENTS / (projectMs / 1000))} events/s\n`);
  console.log(`runs queries through the ${kind} RunsStore.list, ${QUERIES} each with random parameters, fresh connection, limit 50:\n`);
  console.log(formatTable(['query', 'p50 ms', 'p99 ms', 'max ms', 'rows'], rows));
  console.log(`\nworst p99 ${worstP99.toFixed(3)} ms (target < ${TARGET_P99_MS} ms): ${worstP99 < TARGET_P99_MS ? 'OK' : 'MISSED'}`);
  console.log(`load average at the end: ${load.join(', ')} (1, 5, 15 min; other processes on the machine widen the p99)`);
  console.log(`audit verify of the whole chain: ${(verifyMs / 1000).toFixed(1)} s (${report.checked} events, ${report.checkpointsMatched} checkpoints, ${report.problem ? `PROBLEM ${report.problem.kind}` : 'OK'})`);
  return {
    runs: runCount,
    statusCounts,
    sizeMb: round(sizeMb, 1),
    fillSeconds: round(fillMs / 1000, 1),
    fillEventsPerSecond: Math.round(EVENTS / (fillMs / 1000)),
    projectionSeconds: round(projectMs / 1000, 1),
    projectionEventsPerSecond: Math.round(EVENTS / (projectMs / 1000)),
    queries: figures,
    worstP99Ms: worstP99,
    loadAverage: load,
    verify: { seconds: round(verifyMs / 1000, 1), events: report.checked, checkpoints: report.checkpointsMatched, problem: report.problem ?? null },
  };
}

function storeKinds(): StoreKind[] {
  const at = process.argv.indexOf('--store');
  const value = at > 0 ? process.argv[at + 1] : 'sqlite';
  if (value === 'both') return ['sqlite', 'postgres'];
  if (value === 'sqlite' || value === 'postgres') return [value];
  throw new Error(`--store must be sqlite, postgres or both, not ${String(value)}`);
}

async function main(): Promise<void> {
  const kinds = storeKinds();
  const cleanup = new Cleanup();
  try {
    const dir = makeTempDir('gatehouse-bench-runs');
    cleanup.add(dir.remove);
    const signer = openSigningKey(path.join(dir.path, 'audit-signing-key.pem'));
    const results: Record<string, Record<string, unknown>> = {};
    for (const kind of kinds) {
      let open: Opener;
      if (kind === 'postgres') {
        const cluster = await startPostgres({ durable: true });
        cleanup.add(() => cluster.stop());
        open = postgresOpener(await cluster.createDatabase('bench_runs'));
        results[`postgres ${cluster.version}`] = await benchStore(kind, open, signer);
      } else {
        open = sqliteOpener(path.join(dir.path, 'gatehouse.db'));
        results.sqlite = await benchStore(kind, open, signer);
      }
    }
    const out = writeResults(kinds.length === 1 ? `runs-${kinds[0]}` : 'runs', {
      measured: `a store filled with ${EVENTS} events (realistic mix: ~94% call events as requested+outcome pairs, skewed over ${AGENTS.length} agents, ${SERVERS.length * TOOLS.length} tools, 30 days); ${QUERIES} runs queries per filter through RunsStore.list on a fresh connection; latency per query in-process (the CLI adds its own start-up); PostgreSQL: a local cluster on loopback, default settings, fsync on, not ANALYZEd by the benchmark (autovacuum may have)`,
      events: EVENTS,
      queriesPerFilter: QUERIES,
      targetP99Ms: TARGET_P99_MS,
      stores: results,
    });
    console.log(`\nwritten to ${out}`);
    const missed = Object.values(results).some((result) => (result.worstP99Ms as number) >= TARGET_P99_MS || (result.verify as { problem: unknown }).problem);
    if (missed) process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
