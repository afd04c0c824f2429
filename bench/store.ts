/**
 * Store benchmark: audit events appended per second on each adapter, through the same path the
 * gateway uses (hash-chained batches; the group-commit outbox), and the chain verified after.
 *
 *   - sequential: one append at a time, each awaited (one transaction per event: the rate of a
 *     gateway serving one call at a time).
 *   - outbox, 50 writers: 50 concurrent appenders, each awaiting its event before the next, through
 *     one EventOutbox (what concurrent calls in one gateway do).
 *   - outbox, 2 stores x 25 writers: the same through two connections (two pools on PostgreSQL:
 *     two gateways on one database) extending one chain.
 *
 * SQLite: a file in a temp folder, WAL, synchronous=NORMAL (as the gateway opens it: a commit
 * survives a killed process, not an OS crash). PostgreSQL: a throwaway cluster on loopback with
 * its default settings (fsync on, synchronous_commit on: every commit waits for the WAL flush),
 * and again with `store.durability: process`, i.e. synchronous_commit=off (a commit survives a killed gateway, the
 * server's last few hundred milliseconds may not survive an OS crash: SQLite's promise), which
 * shows what the disk's flush costs. Run with `npm run bench:store [-- --events N]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openStores, type OpenStores } from '../src/app.js';
import type { GatehouseConfig } from '../src/config/load.js';
import { ChainVerifier } from '../src/core/event-chain.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { EventOutbox } from '../src/gateway/event-outbox.js';
import type { EventStore } from '../src/ports/event-store.js';
import { startPostgres } from './lib/postgres.js';
import { writeResults } from './lib/results.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const log = pino({ level: 'silent' });

/** A call event of a typical size (the payload the pipeline writes). */
function callEvent(i: number): GatehouseEvent {
  return {
    type: 'tool.call.succeeded',
    at: new Date().toISOString(),
    agent: 'bench-agent',
    profile: 'builder',
    server: 'everything',
    tool: 'echo',
    payload: { via: 'direct', session: 'b2c1d0e4-5f6a-4b7c-8d9e-0f1a2b3c4d5e', gate: 'G0', durationMs: 1.234, outcome: 'ok', i },
  };
}

interface Row {
  adapter: string;
  scenario: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  batches?: number;
}

async function sequential(store: EventStore, count: number): Promise<Omit<Row, 'adapter' | 'scenario'>> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await store.append(callEvent(i));
  return figures(count, started);
}

/** `writers` loops per store, each awaiting its event's commit before appending the next. */
async function throughOutbox(stores: EventStore[], writersPerStore: number, count: number): Promise<Omit<Row, 'adapter' | 'scenario'>> {
  let batches = 0;
  const outboxes = stores.map(
    (store) =>
      new EventOutbox(
        {
          append: (event) => store.append(event),
          appendBatch: (events) => {
            batches += 1;
            return store.appendBatch(events);
          },
          read: (options) => store.read(options),
          count: (type) => store.count(type),
          chain: () => store.chain(),
        },
        log,
      ),
  );
  const perWriter = Math.ceil(count / (stores.length * writersPerStore));
  const started = performance.now();
  await Promise.all(
    outboxes.flatMap((outbox) =>
      Array.from({ length: writersPerStore }, async () => {
        for (let i = 0; i < perWriter; i++) await outbox.append(callEvent(i));
      }),
    ),
  );
  return { ...figures(perWriter * stores.length * writersPerStore, started), batches };
}

function figures(events: number, started: number): { events: number; seconds: number; eventsPerSecond: number } {
  const seconds = (performance.now() - started) / 1000;
  return { events, seconds: round(seconds, 2), eventsPerSecond: Math.round(events / seconds) };
}

async function verify(store: EventStore): Promise<{ checked: number; eventsPerSecond: number }> {
  const started = performance.now();
  const verifier = new ChainVerifier();
  for await (const event of store.chain()) if (!verifier.next(event)) break;
  const report = verifier.report();
  if (report.problem) throw new Error(`the chain is broken: ${JSON.stringify(report.problem)}`);
  return { checked: report.checked, eventsPerSecond: Math.round(report.checked / ((performance.now() - started) / 1000)) };
}

async function benchAdapter(adapter: string, open: () => Promise<OpenStores>, count: number): Promise<{ rows: Row[]; verified: { checked: number; eventsPerSecond: number } }> {
  const first = await open();
  const second = await open();
  try {
    const rows: Row[] = [];
    rows.push({ adapter, scenario: 'sequential (1 event per commit)', ...(await sequential(first.stores.events, Math.max(200, Math.round(count / 10)))) });
    rows.push({ adapter, scenario: 'outbox, 50 writers', ...(await throughOutbox([first.stores.events], 50, count)) });
    rows.push({ adapter, scenario: 'outbox, 2 stores x 25 writers', ...(await throughOutbox([first.stores.events, second.stores.events], 25, count)) });
    return { rows, verified: await verify(first.stores.events) };
  } finally {
    await first.close();
    await second.close();
  }
}

async function main(): Promise<void> {
  const eventsArg = process.argv.indexOf('--events');
  const count = eventsArg > 0 ? Number(process.argv[eventsArg + 1]) : 20_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-store-'));
  const cluster = await startPostgres({ durable: true });
  try {
    const sqliteStore: GatehouseConfig['store'] = { kind: 'sqlite', path: path.join(dir, 'bench.db'), durability: 'process' };
    const postgresStore: GatehouseConfig['store'] = { kind: 'postgres', url: await cluster.createDatabase('bench'), poolSize: 10, durability: 'power' };
    // store.durability: process sets synchronous_commit=off on every connection.
    const relaxedStore: GatehouseConfig['store'] = { kind: 'postgres', url: await cluster.createDatabase('bench_relaxed'), poolSize: 10, durability: 'process' };
    const sqlite = await benchAdapter('sqlite', () => openStores(sqliteStore), count);
    const postgres = await benchAdapter(`postgres ${cluster.version}`, () => openStores(postgresStore), count);
    const relaxed = await benchAdapter(`postgres ${cluster.version}, synchronous_commit=off`, () => openStores(relaxedStore), count);
    const adapters = [sqlite, postgres, relaxed];
    const rows = adapters.flatMap((adapter) => adapter.rows);
    process.stdout.write(
      `${formatTable(
        ['adapter', 'scenario', 'events', 's', 'events/s', 'batches'],
        rows.map((row) => [row.adapter, row.scenario, row.events, row.seconds, row.eventsPerSecond, row.batches ?? '-']),
      )}\n\n`,
    );
    for (const adapter of adapters) {
      process.stdout.write(`chain verified (gatehouse audit verify's walk): ${adapter.rows[0]!.adapter}, ${adapter.verified.checked} events at ${adapter.verified.eventsPerSecond}/s\n`);
    }
    const file = writeResults('store', { events: count, rows, verified: adapters.map((adapter) => ({ adapter: adapter.rows[0]!.adapter, ...adapter.verified })) });
    process.stdout.write(`results: ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
