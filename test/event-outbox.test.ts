import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { DEFERRED_FLUSH_MS, EventOutbox } from '../src/gateway/event-outbox.js';

const event = (i: number): GatehouseEvent => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), agent: 'a', tool: `t${i}`, payload: { i } });

test('the outbox commits events appended together in one transaction, and resolves only once they are stored', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const batches: number[] = [];
  const counting = { ...store, append: store.append.bind(store), read: store.read.bind(store), count: store.count.bind(store), chain: store.chain.bind(store), appendBatch: (events: readonly GatehouseEvent[]) => {
    batches.push(events.length);
    return store.appendBatch(events);
  } };
  const outbox = new EventOutbox(counting, pino({ level: 'silent' }));
  const writes = Array.from({ length: 50 }, (_, i) => outbox.append(event(i)));
  assert.equal(await store.count(), 0, 'nothing is written before the next turn of the event loop');
  await Promise.all(writes);
  assert.equal(await store.count(), 50);
  assert.deepEqual(batches, [50]);
  await outbox.append(event(50));
  assert.deepEqual(batches, [50, 1]);
  assert.deepEqual((await store.read()).map((e) => e.tool).slice(0, 3), ['t0', 't1', 't2'], 'order is kept');
  assert.throws(() => db.prepare('DELETE FROM events').run(), /append-only/);
  db.close();
});

test('a failed write is logged and does not leave callers waiting', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
  const outbox = new EventOutbox(store, log);
  db.close(); // every write now fails
  await outbox.append(event(1));
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /audit events could not be written/);
});

test('an enqueued event rides with the next batch, or is written on its own after a short delay', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const batches: number[] = [];
  const outbox = new EventOutbox(store, pino({ level: 'silent' }), (count) => batches.push(count));
  outbox.enqueue(event(1));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await store.count(), 0, 'no commit of its own on the next turn');
  await outbox.append(event(2));
  assert.deepEqual(batches, [2], 'written with the awaited event, in one commit, in order');
  assert.deepEqual((await store.read()).map((e) => e.tool), ['t1', 't2']);
  outbox.enqueue(event(3));
  const started = Date.now();
  while ((await store.count()) < 3) await new Promise((resolve) => setTimeout(resolve, 10));
  const waited = Date.now() - started;
  assert.ok(waited >= DEFERRED_FLUSH_MS - 20 && waited < DEFERRED_FLUSH_MS + 500, `written alone after ${waited} ms`);
  assert.deepEqual(batches, [2, 1]);
  db.close();
});

test('an event appended while a batch is being written is written next, without another append to carry it', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const batches: string[][] = [];
  let firstStarted!: () => void;
  const started = new Promise<void>((resolve) => (firstStarted = resolve));
  let finishFirst!: () => void;
  const held = new Promise<void>((resolve) => (finishFirst = resolve));
  const slowFirst = { ...store, append: store.append.bind(store), read: store.read.bind(store), count: store.count.bind(store), chain: store.chain.bind(store), appendBatch: async (events: readonly GatehouseEvent[]) => {
    batches.push(events.map((e) => e.tool!));
    if (batches.length === 1) {
      firstStarted();
      await held;
    }
    return store.appendBatch(events);
  } };
  const outbox = new EventOutbox(slowFirst, pino({ level: 'silent' }));
  const first = outbox.append(event(1));
  await started;
  const second = outbox.append(event(2)); // the first batch is in flight
  finishFirst();
  await Promise.all([first, second]);
  assert.deepEqual(batches, [['t1'], ['t2']]);
  assert.deepEqual((await store.read()).map((e) => e.tool), ['t1', 't2']);
  db.close();
});
