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

test('writtenSoFar resolves once every event queued before it is committed, at once when none is', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  const batches: string[][] = [];
  /** While set, a batch waits for it before it is written. */
  let hold: Promise<void> | undefined;
  let release!: () => void;
  const holdNext = () => (hold = new Promise<void>((resolve) => (release = resolve)));
  const held = { ...store, append: store.append.bind(store), read: store.read.bind(store), count: store.count.bind(store), chain: store.chain.bind(store), appendBatch: async (events: readonly GatehouseEvent[]) => {
    batches.push(events.map((e) => e.tool!));
    await hold;
    return store.appendBatch(events);
  } };
  const outbox = new EventOutbox(held, pino({ level: 'silent' }));
  await outbox.writtenSoFar();
  assert.deepEqual(batches, [], 'nothing queued: no commit');

  // A queued event gets its commit now, not after DEFERRED_FLUSH_MS.
  holdNext();
  outbox.enqueue(event(1));
  let firstWritten = false;
  const asked = Date.now();
  const first = outbox.writtenSoFar().then(() => (firstWritten = true));
  while (batches.length === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(Date.now() - asked < DEFERRED_FLUSH_MS / 2, `its batch started after ${Date.now() - asked} ms`);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(firstWritten, false, 'not before the batch holding it is committed');
  // While that batch is in flight: one more queued.
  outbox.enqueue(event(2));
  const second = outbox.writtenSoFar();
  hold = undefined;
  release();
  await first;
  await second;
  assert.deepEqual(batches, [['t1'], ['t2']]);
  assert.equal(await store.count(), 2);

  // Nothing queued, a batch in flight: that batch is waited for.
  holdNext();
  const third = outbox.append(event(3));
  while (batches.length === 2) await new Promise((resolve) => setImmediate(resolve));
  let thirdWaited = false;
  const barrier = outbox.writtenSoFar().then(() => (thirdWaited = true));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(thirdWaited, false, 'the batch in flight counts as queued');
  release();
  await barrier;
  assert.equal(await store.count(), 3);
  await third;
  db.close();
});
