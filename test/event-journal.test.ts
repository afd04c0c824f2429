import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { inTempDir } from '../bench/lib/temp-dir.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { ChainVerifier } from '../src/core/event-chain.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { DEFERRED_FLUSH_MS, EventOutbox } from '../src/gateway/event-outbox.js';

// The SQLite store's journal (src/adapters/sqlite/event-journal.ts): a call is answered once its
// events are in the journal, committed with the next batch; a process that opens the store after the
// journal's process died appends what was not committed, exactly once.

const event = (i: number): GatehouseEvent => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), agent: 'a', tool: `t${i}`, payload: { i, text: 'é\n"' } });
const journals = (dir: string): string[] => readdirSync(dir).filter((name) => name.includes('.events-') && name.endsWith('.jsonl'));
const locks = (dir: string): string[] => readdirSync(dir).filter((name) => name.includes('.events-') && name.endsWith('.lock'));
const STORE_MODULE = pathToFileURL(path.join(import.meta.dirname, '../src/adapters/sqlite/event-store.js')).href;
const OUTBOX_MODULE = pathToFileURL(path.join(import.meta.dirname, '../src/gateway/event-outbox.js')).href;
const DATABASE_MODULE = pathToFileURL(path.join(import.meta.dirname, '../src/adapters/sqlite/database.js')).href;

/** Stored events: their tools in order, and whether their chain verifies. */
function stored(file: string): { tools: string[]; chainProblem: unknown; journalRows: number } {
  const db = openSqlite(file);
  try {
    new SqliteEventStore(db); // opening the store replays the journals of dead processes
    const rows = db.prepare('SELECT seq, type, at, agent, profile, server, tool, payload, prev_hash AS prevHash, hash FROM events ORDER BY seq').all() as Parameters<ChainVerifier['next']>[0][];
    const verifier = new ChainVerifier();
    for (const row of rows) verifier.next(row);
    return { tools: rows.map((row) => row.tool!), chainProblem: verifier.report().problem, journalRows: db.prepare('SELECT count(*) FROM event_journals').pluck().get() as number };
  } finally {
    db.close();
  }
}

/**
 * A process that commits event 1 through the journal, journals events 2 and 3 without committing
 * them, and then waits to be killed (it prints "ready" first).
 */
function journalingProcess(file: string): ChildProcess {
  const script = `
    const { openSqlite } = await import(${JSON.stringify(DATABASE_MODULE)});
    const { SqliteEventStore } = await import(${JSON.stringify(STORE_MODULE)});
    const store = new SqliteEventStore(openSqlite(${JSON.stringify(file)}));
    const event = (i) => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), agent: 'a', tool: 't' + i, payload: { i, text: 'é\\n"' } });
    const first = [event(1)];
    if (!store.journal(first)) throw new Error('no journal');
    await store.appendBatch(first);
    if (!store.journal([event(2), event(3)])) throw new Error('no journal');
    process.stdout.write('ready\\n');
    setInterval(() => undefined, 1000);`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function untilReady(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the journaling process exited (${code}) before it was ready`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

test('events journaled and not committed by a killed process are appended by the next process to open the store, once, in order', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    const child = journalingProcess(file);
    await untilReady(child);
    assert.equal(journals(dir).length, 1, 'the process keeps a journal beside the database');
    assert.equal(locks(dir).length, 1, 'and its lock');
    assert.deepEqual(stored(file).tools, ['t1'], 'a live process\'s journal is left alone: only its commit is in the store');
    assert.equal(journals(dir).length, 1);

    await kill(child);
    const afterKill = stored(file);
    assert.deepEqual(afterKill.tools, ['t1', 't2', 't3'], 'the uncommitted lines were appended after the committed one, which was not appended again');
    assert.equal(afterKill.chainProblem, undefined, 'the chain verifies');
    assert.deepEqual([journals(dir), locks(dir)], [[], []], 'the replayed journal and its lock are deleted');
    assert.equal(afterKill.journalRows, 0, 'and its row');
    assert.deepEqual(stored(file).tools, ['t1', 't2', 't3'], 'opening again appends nothing');
  });
});

test('events the store refused and the outbox dead-lettered are not appended again by the replay of a killed process', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    // Event 1's batch is refused and dead-lettered (its letter is written to a file); event 2 is
    // journaled and not yet committed when the process is killed.
    const script = `
      const { writeFileSync } = await import('node:fs');
      const { openSqlite } = await import(${JSON.stringify(DATABASE_MODULE)});
      const { SqliteEventStore } = await import(${JSON.stringify(STORE_MODULE)});
      const { EventOutbox } = await import(${JSON.stringify(OUTBOX_MODULE)});
      const store = new SqliteEventStore(openSqlite(${JSON.stringify(file)}));
      let refuse = true;
      // Refused, then held forever, so that event 2 stays in the journal only.
      store.appendBatch = () => (refuse ? Promise.reject(new Error('refused')) : new Promise(() => undefined));
      const log = { warn() {}, error() {}, fatal() {} };
      const outbox = new EventOutbox(store, log, undefined, {
        retry: { retries: 0, baseDelayMs: 1 },
        deadLetter: async (events) => writeFileSync(${JSON.stringify(path.join(dir, 'letter.json'))}, JSON.stringify(events)),
      });
      const event = (i) => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), agent: 'a', tool: 't' + i, payload: { i } });
      await outbox.append(event(1));
      await outbox.flush();
      refuse = false;
      await outbox.append(event(2));
      process.stdout.write('ready\\n');
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await untilReady(child);
    await kill(child);
    assert.deepEqual((JSON.parse(readFileSync(path.join(dir, 'letter.json'), 'utf8')) as GatehouseEvent[]).map((e) => e.tool), ['t1'], 'event 1 is in its dead letter');
    const after = stored(file);
    assert.deepEqual(after.tools, ['t2'], 'the replay appended event 2 and left event 1 to its letter');
    assert.equal(after.chainProblem, undefined);
    assert.deepEqual(journals(dir), []);
  });
});

test('a journal\'s lock, not its pid, says whether its process lives: a reused pid does not keep it from replay, a pid from another namespace does not expose it', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    openSqlite(file).close();
    const lines = (from: number) => [0, 1].map((i) => JSON.stringify({ n: i + 1, event: event(from + i) })).join('\n') + '\n';
    // Named with this process's pid, as a container's restarted gateway has its predecessor's;
    // the lock file is there and nobody holds it: the process that wrote it is gone.
    const reused = `gatehouse.db.events-${process.pid}-0000aaaa.jsonl`;
    writeFileSync(path.join(dir, reused), lines(1));
    new Database(path.join(dir, `${reused}.lock`)).close();
    assert.deepEqual(stored(file).tools, ['t1', 't2'], 'replayed although its pid is alive');
    assert.deepEqual([journals(dir), locks(dir)], [[], []], 'the journal and its lock are deleted');

    // Named with a pid that does not run here (a process in another pid namespace sharing the
    // volume), its lock held: that process lives, and its journal is left alone until it ends.
    const foreign = 'gatehouse.db.events-4194305-0000bbbb.jsonl';
    writeFileSync(path.join(dir, foreign), lines(3));
    const holder = new Database(path.join(dir, `${foreign}.lock`), { timeout: 0 });
    holder.exec('BEGIN EXCLUSIVE');
    assert.deepEqual(stored(file).tools, ['t1', 't2'], 'a held lock keeps the journal from replay');
    assert.deepEqual([journals(dir), locks(dir)], [[foreign], [`${foreign}.lock`]], 'the journal and its lock stay');
    holder.close();
    assert.deepEqual(stored(file).tools, ['t1', 't2', 't3', 't4'], 'replayed once its lock is free');
    assert.deepEqual([journals(dir), locks(dir)], [[], []]);
  });
});

test('a journal without a lock file (an older version\'s) is left alone while its pid runs', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    openSqlite(file).close();
    const old = `gatehouse.db.events-${process.ppid}-0000cccc.jsonl`;
    writeFileSync(path.join(dir, old), `${JSON.stringify({ n: 1, event: event(1) })}\n`);
    assert.deepEqual(stored(file).tools, []);
    assert.deepEqual(journals(dir), [old]);
  });
});

test('a journal whose last line was cut short is replayed up to it', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    openSqlite(file).close();
    // A pid that is not running: the highest a Linux pid can be, plus one.
    const name = `gatehouse.db.events-4194305-deadbeef.jsonl`;
    const line = (n: number) => JSON.stringify({ n, event: event(n) });
    writeFileSync(path.join(dir, name), `${line(1)}\n${line(2)}\n${line(3).slice(0, 20)}`);
    assert.deepEqual(stored(file).tools, ['t1', 't2']);
    assert.deepEqual(journals(dir), []);
  });
});

test('a journal another process has just replayed (its mark at the last line, the file not yet deleted) adds nothing', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    const name = 'gatehouse.db.events-4194305-cafe0001.jsonl'; // a pid above Linux's highest: not running
    const lines = Array.from({ length: 3 }, (_, i) => JSON.stringify({ n: i + 1, event: event(i + 1) })).join('\n');
    writeFileSync(path.join(dir, name), `${lines}\n`);
    // Opening the store replays it; then the state a second opener finds when the first has
    // committed the lines and their mark, and not yet deleted the file: the same file, mark 3.
    assert.deepEqual(stored(file).tools, ['t1', 't2', 't3']);
    writeFileSync(path.join(dir, name), `${lines}\n`);
    const db = openSqlite(file);
    db.prepare('INSERT INTO event_journals (name, through) VALUES (?, 3)').run(name);
    db.close();
    const after = stored(file);
    assert.deepEqual(after.tools, ['t1', 't2', 't3'], 'nothing appended twice');
    assert.deepEqual(journals(dir), []);
    assert.equal(after.journalRows, 0);
  });
});

test('a large journal is emptied as it goes, once everything in it is committed; a clean close deletes it', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    const db = openSqlite(file);
    const store = new SqliteEventStore(db);
    const big = (i: number): GatehouseEvent => ({ ...event(i), payload: { i, text: 'x'.repeat(2000) } });
    for (let i = 0; i < 2000; i += 1) {
      const batch = [big(i)];
      assert.equal(store.journal(batch), true);
      await store.appendBatch(batch);
    }
    const [name] = journals(dir);
    assert.ok(statSync(path.join(dir, name!)).size < 2 << 20, `about 4 MB journaled, ${statSync(path.join(dir, name!)).size} bytes kept`);
    store.closeJournal();
    assert.deepEqual(journals(dir), [], 'a clean close deletes it');
    assert.equal(db.prepare('SELECT count(*) FROM event_journals').pluck().get(), 0, 'and its row');
    db.close();
  });
});

test('the outbox answers once the journal holds an event and every event queued before it, and commits them with the next batch', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    const db = openSqlite(file);
    const store = new SqliteEventStore(db);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const commits: number[] = [];
    const holding = Object.assign(Object.create(store) as SqliteEventStore, {
      journal: store.journal.bind(store),
      appendBatch: async (events: readonly GatehouseEvent[]) => {
        await held;
        commits.push(events.length);
        return store.appendBatch(events);
      },
    });
    const outbox = new EventOutbox(holding, pino({ level: 'silent' }));
    outbox.enqueue(event(1));
    await outbox.append(event(2));
    assert.deepEqual(commits, [], 'answered while the commit is held');
    await outbox.writtenSoFar();
    assert.deepEqual(journals(dir).length, 1);
    // This process is alive, so a second store on the file leaves its journal alone; a process
    // killed here would leave t1 and t2 to the next one (see the first test).
    release();
    const started = Date.now();
    while (commits.length === 0 && Date.now() - started < DEFERRED_FLUSH_MS + 1_000) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(commits, [2], 'both events in one commit, with no flush asked for');
    store.closeJournal();
    assert.deepEqual(journals(dir), []);
    db.close();
    assert.deepEqual(stored(file).tools, ['t1', 't2']);
  });
});

test('when the journal cannot be written, the outbox waits for the commit as without one', async () => {
  const db = openSqlite(':memory:');
  const store = new SqliteEventStore(db);
  let commits = 0;
  const failing = Object.assign(Object.create(store) as SqliteEventStore, {
    journal: () => false,
    appendBatch: async (events: readonly GatehouseEvent[]) => {
      commits += 1;
      return store.appendBatch(events);
    },
  });
  const outbox = new EventOutbox(failing, pino({ level: 'silent' }));
  await outbox.append(event(1));
  assert.equal(commits, 1, 'committed before append resolved');
  assert.equal(await store.count(), 1);
  db.close();
});

test('with durability power there is no journal: each call waits for its commit, whose flush its batch shares', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    const file = path.join(dir, 'gatehouse.db');
    const db = openSqlite(file, { durability: 'power' });
    const store = new SqliteEventStore(db);
    assert.equal(store.journal([event(1)]), false);
    let commits = 0;
    const counting = Object.assign(Object.create(store) as SqliteEventStore, {
      journal: store.journal.bind(store),
      appendBatch: async (events: readonly GatehouseEvent[]) => {
        commits += 1;
        return store.appendBatch(events);
      },
    });
    const outbox = new EventOutbox(counting, pino({ level: 'silent' }));
    await Promise.all([outbox.append(event(2)), outbox.append(event(3))]);
    assert.equal(commits, 1, 'both committed, in one batch, before append resolved');
    assert.equal(await store.count(), 2);
    assert.deepEqual(journals(dir), []);
    db.close();
  });
});

test('a journal that cannot be created is not tried again, and leaves no row', async () => {
  await inTempDir('gatehouse-journal', async (dir) => {
    // The database's name is allowed; its journal's, 30-odd characters longer, is over the 255 a file name may have.
    const file = path.join(dir, `${'x'.repeat(230)}.db`);
    const db = openSqlite(file);
    const store = new SqliteEventStore(db);
    assert.equal(store.journal([event(1)]), false);
    assert.equal(store.journal([event(2)]), false);
    assert.equal(db.prepare('SELECT count(*) FROM event_journals').pluck().get(), 0);
    const outbox = new EventOutbox(store, pino({ level: 'silent' }));
    await outbox.append(event(3));
    assert.equal(await store.count(), 1, 'committed before append resolved');
    db.close();
  });
});

