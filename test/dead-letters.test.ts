import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { toYaml } from '../src/config/yaml.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { SqliteDeadLetterStore } from '../src/adapters/sqlite/dead-letter-store.js';
import { DeadLetterFile } from '../src/adapters/fs/dead-letter-file.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { EventOutbox } from '../src/gateway/event-outbox.js';
import { DeadLetterBox } from '../src/gateway/dead-letter-box.js';
import { processOwner } from '../src/governance/crash-recovery.js';
import type { EventStore } from '../src/ports/event-store.js';
import type { DeadLetter, DeadLetterStore } from '../src/ports/dead-letter-store.js';
import { faultNotes, faultServer, readEvents } from './helpers/faults.js';
import { httpClient, runCli, startServe, tempConfig, text, TOKENS, waitFor } from './helpers/gatehouse.js';

const event = (i: number): GatehouseEvent => ({ type: 'tool.call.succeeded', at: new Date().toISOString(), agent: 'a', tool: `t${i}`, payload: { i } });
const silent = pino({ level: 'silent' });
const fast = { retries: 3, baseDelayMs: 5 };

/** An event store that refuses the first `failures` batches (Infinity: all). */
function flaky(store: EventStore, failures: number): EventStore & { attempts: number } {
  const wrapped = {
    attempts: 0,
    append: store.append.bind(store),
    read: store.read.bind(store),
    count: store.count.bind(store),
    chain: store.chain.bind(store),
    appendBatch: (events: readonly GatehouseEvent[]) => {
      wrapped.attempts += 1;
      return wrapped.attempts <= failures ? Promise.reject(new Error('disk I/O error')) : store.appendBatch(events);
    },
  };
  return wrapped;
}

function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-dlq-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a test on a SQLite store in a scratch folder, closed and removed afterwards. */
async function inScratchStore(use: (dir: string, db: ReturnType<typeof openSqlite>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = scratch();
  const db = openSqlite(path.join(dir, 'g.db'));
  try {
    await use(dir, db);
  } finally {
    db.close();
    cleanup();
  }
}

test('the outbox retries a refused batch with backoff and writes it when the store recovers: no dead letter', async () => {
  const db = openSqlite(':memory:');
  const store = flaky(new SqliteEventStore(db), 2);
  const letters: GatehouseEvent[][] = [];
  const outbox = new EventOutbox(store, silent, undefined, { retry: fast, deadLetter: async (events) => void letters.push(events) });
  await Promise.all([outbox.append(event(1)), outbox.append(event(2))]);
  assert.equal(store.attempts, 3);
  assert.deepEqual((await store.read()).map((e) => e.tool), ['t1', 't2']);
  assert.equal(letters.length, 0);
  db.close();
});

test('after its retries a batch is dead-lettered to the table; when the table fails too, to the file; dlq retry re-appends it once', async () => {
  await inScratchStore(async (dir, db) => {
    const events = new SqliteEventStore(db);
    const recorded: Array<Omit<GatehouseEvent, 'at'>> = [];
    const file = new DeadLetterFile(path.join(dir, 'dead-letters.jsonl'));
    const table = new SqliteDeadLetterStore(db);
    const box = new DeadLetterBox(table, file, (e) => void recorded.push(e));
    const down = flaky(events, Infinity);
    const outbox = new EventOutbox(down, silent, undefined, { retry: fast, deadLetter: (batch, error, attempts) => box.addEvents(batch, error, attempts) });
    await outbox.append(event(1));
    assert.equal(down.attempts, 4, 'the first try and 3 retries');
    const [stored] = await table.list();
    assert.deepEqual([stored?.kind, stored?.status, stored?.attempts, stored?.error.message], ['events', 'open', 4, 'disk I/O error']);
    assert.deepEqual((stored?.payload.events as GatehouseEvent[]).map((e) => e.tool), ['t1']);
    assert.deepEqual(recorded.map((e) => [e.type, e.payload.kind, e.payload.where]), [['dead_letter.added', 'events', 'store']]);

    // The dead-letter table refuses too: the letter goes to the file, and is listed from there.
    const broken: DeadLetterStore = { ...table, add: () => Promise.reject(new Error('database is locked')), list: table.list.bind(table), get: table.get.bind(table), transition: table.transition.bind(table) };
    const fileBox = new DeadLetterBox(broken, file, (e) => void recorded.push(e));
    const viaFile = new EventOutbox(down, silent, undefined, { retry: fast, deadLetter: (batch, error, attempts) => fileBox.addEvents(batch, error, attempts) });
    await viaFile.append(event(2));
    const line = JSON.parse(readFileSync(file.file, 'utf8').trim()) as { id: string; kind: string };
    assert.equal(line.kind, 'events');
    const { letters: listed } = await box.list();
    assert.deepEqual(listed.map((l) => [l.where, l.status]).sort(), [['file', 'open'], ['store', 'open']]);

    // Retry: the file letter moves into the table (same id) and its events are appended once.
    const rerun = async (letter: { payload: Record<string, unknown> }) => events.appendBatch(letter.payload.events as GatehouseEvent[]);
    const retried = await box.retry(line.id, 'carol', rerun);
    assert.equal(retried.status, 'retried');
    await assert.rejects(box.retry(line.id, 'carol', rerun), /GH_DEAD_LETTER_SETTLED|not open/);
    assert.deepEqual((await events.read()).map((e) => e.tool), ['t2']);
    assert.deepEqual((await box.list('open')).letters.map((l) => l.where), ['store'], 'the moved letter is listed once, from the table');
    const dropped = await box.drop(stored!.id, 'dave', 'replayed from the backup');
    assert.deepEqual([dropped.status, dropped.settledBy, dropped.settleReason], ['dropped', 'dave', 'replayed from the backup']);
    assert.deepEqual(recorded.filter((e) => e.type !== 'dead_letter.added').map((e) => [e.type, e.payload.by]), [['dead_letter.retried', 'carol'], ['dead_letter.dropped', 'dave']]);
  });
});

/** A line of the dead-letter file as DeadLetterBox writes it: an open letter of kind events. */
const filedLetter = (id: string, createdAt = '2025-01-01T00:00:00.000Z') =>
  JSON.stringify({ kind: 'events', createdAt, payload: { events: [event(1)] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'disk I/O error' }, attempts: 4, id, status: 'open' });

test('the dead-letter file: every line that is not a letter is reported by number, only a torn last line is skipped, and a letter appended after it is kept', () => {
  const { dir, cleanup } = scratch();
  try {
    const file = new DeadLetterFile(path.join(dir, 'dead-letters.jsonl'));
    writeFileSync(file.file, [
      filedLetter('dl_good1'),
      'null',
      '{}',
      '{"id":"dl_x","kind":"events"}',
      '{"id":"dl_torn","kind":"ev', // cut short, then written after: not the last line
      JSON.stringify({ ...JSON.parse(filedLetter('dl_call')), kind: 'call' }), // a call without exposedName and arguments
      filedLetter('dl_good2'),
      '{"id":"dl_moved","movedToStoreAt":"2025-01-02T00:00:00.000Z"}',
      '{"id":"dl_last","kind":"events","created', // torn last line: a crash mid-append
    ].join('\n'));
    const { letters, unreadable } = file.read();
    assert.deepEqual(letters.map((letter) => letter.id), ['dl_good1', 'dl_good2']);
    assert.deepEqual(unreadable.map((bad) => [bad.file, bad.line]), [2, 3, 4, 5, 6].map((line) => [file.file, line]));
    assert.match(unreadable[0]!.problem, /^not a JSON object$/);
    assert.match(unreadable[1]!.problem, /^not a dead letter: id: .*kind: .*error: .*attempts: /);
    assert.match(unreadable[2]!.problem, /^not a dead letter: .*payload: /);
    assert.match(unreadable[3]!.problem, /^not JSON \(/);
    assert.match(unreadable[4]!.problem, /^not a dead letter of kind call: payload\.exposedName: .*payload\.arguments: /);

    // The next append starts a line of its own: the torn one is reported, the new letter is read.
    file.append(JSON.parse(filedLetter('dl_after')) as DeadLetter);
    const after = file.read();
    assert.deepEqual(after.letters.map((letter) => letter.id), ['dl_good1', 'dl_good2', 'dl_after']);
    assert.deepEqual(after.unreadable.map((bad) => bad.line), [2, 3, 4, 5, 6, 9]);
  } finally {
    cleanup();
  }
});

test('dlq list on a damaged dead-letter file lists the letters it can read and warns of each other line by file and number, without a stack trace', () => {
  const temp = tempConfig({ store: { kind: 'sqlite', path: 'state/g.db' }, servers: {}, profiles: {}, audit: { deadLetterFile: 'state/dl.jsonl', signingKeyFile: 'state/key.pem' } });
  try {
    const file = path.join(temp.dir, 'state/dl.jsonl');
    runCli(['dlq', 'list', '--config', temp.configPath]); // creates state/
    writeFileSync(file, `null\n${filedLetter('dl_good')}\n{}\n`);
    appendFileSync(file, '{"id":"dl_x","kind":"events"}\n{"torn');
    for (const args of [['dlq', 'list'], ['dlq', 'list', '--json']]) {
      const listed = runCli([...args, '--config', temp.configPath]);
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /dl_good/);
      assert.deepEqual(listed.stderr.trim().split('\n').map((line) => line.replace(/ is not listed: not .*/, '')), [1, 3, 4].map((line) => `warning: ${file}:${line}`));
      assert.doesNotMatch(listed.stderr, /TypeError|\n\s+at /);
    }
    const retry = runCli(['dlq', 'drop', 'dl_x', '--reason', 'r', '--config', temp.configPath]);
    assert.equal(retry.status, 1);
    assert.match(retry.stderr, /^error GH_DEAD_LETTER_UNKNOWN: no dead letter "dl_x" \(3 lines of .*dl\.jsonl cannot be read: `gatehouse dlq list` names them\)/);
  } finally {
    temp.cleanup();
  }
});

test('an approved call of a queue profile runs after its agent stopped waiting; its failure is dead-lettered; dlq retry runs it once; drop keeps the audit', async () => {
  const temp = tempConfig({});
  const { dir, configPath } = temp;
  writeFileSync(configPath, toYaml({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { crm: faultServer(dir, {}, { tools: { record: { gate: 'G2' }, lookup: { gate: 'G0' } } }) },
    profiles: { queued: { allow: ['crm/*'], approval: { mode: 'queue' } } },
    agents: { alice: { profiles: ['queued'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  }));
  const cli = (...args: string[]) => runCli([...args, '--config', configPath]);
  const executed = (id: string) => faultNotes(dir).filter((note) => note.event === 'executed' && note.id === id).length;
  const gateway = await startServe(configPath);
  let client: Client | undefined;
  try {
    client = await httpClient(gateway.url, 'queued', TOKENS.alice);
    const ask = async (id: string) => {
      const held = (await client!.callTool({ name: 'crm__record', arguments: { id, fault: 'crash_once' } })) as unknown as { _meta: { gatehouse: { code: string; data: { approvalId: string; queued: boolean } } } };
      assert.equal(held._meta.gatehouse.code, 'GH_APPROVAL_PENDING');
      assert.equal(held._meta.gatehouse.data.queued, true);
      return held._meta.gatehouse.data.approvalId;
    };
    const first = await ask('q1');
    const second = await ask('q2');
    for (const approval of [first, second]) assert.equal(cli('approvals', 'approve', approval, '--by', 'carol').status, 0);
    const open = () => JSON.parse(cli('dlq', 'list', '--json').stdout) as Array<{ id: string; kind: string; status: string; payload: { approval: string }; error: { code: string } }>;
    await waitFor(() => open().length === 2, 15_000, 'two dead letters');
    assert.equal(executed('q1'), 1, 'the crashing G2 call was not retried (no idempotency key)');
    const letter = open().find((l) => l.payload.approval === first)!;
    assert.deepEqual([letter.kind, letter.status, letter.error.code], ['call', 'open', 'GH_DOWNSTREAM_UNAVAILABLE']);
    assert.match(cli('dlq', 'list').stdout, /ID\s+STATUS\s+KIND[\s\S]*call\s+store/);

    // The agent reads the outcome with its approval id: the stored failure, not a second run.
    const replay = (await client.callTool({ name: 'crm__record', arguments: { id: 'q1', fault: 'crash_once', approval_id: first } })) as unknown as { _meta: { gatehouse: { code: string; data: { replay?: boolean } } } };
    assert.equal(replay._meta.gatehouse.code, 'GH_DOWNSTREAM_UNAVAILABLE');
    assert.equal(replay._meta.gatehouse.data.replay, true);
    assert.equal(executed('q1'), 1);

    const retried = cli('dlq', 'retry', letter.id, '--by', 'carol');
    assert.equal(retried.status, 0, retried.stderr);
    assert.match(retried.stdout, /retried by carol: the call succeeded/);
    assert.equal(executed('q1'), 2, 'run once more');
    assert.match(cli('dlq', 'retry', letter.id).stderr, /GH_DEAD_LETTER_SETTLED/);
    assert.equal(executed('q1'), 2);

    const other = open().find((l) => l.payload.approval === second)!;
    assert.equal(cli('dlq', 'drop', other.id).status, 1, '--reason is required');
    assert.equal(cli('dlq', 'drop', other.id, '--by', 'dave', '--reason', 'done by hand').status, 0);
    assert.equal(open().length, 0);
    const all = JSON.parse(cli('dlq', 'list', '--all', '--json').stdout) as Array<{ status: string; settledBy: string }>;
    assert.deepEqual(all.map((l) => [l.status, l.settledBy]).sort(), [['dropped', 'dave'], ['retried', 'carol']]);
    const db = path.join(dir, 'state/gatehouse.db');
    await waitFor(() => readEvents(db, ['dead_letter.added']).length === 2, 5_000, 'dead_letter.added events');
    const settled = readEvents(db, ['dead_letter.retried', 'dead_letter.dropped']).map((e) => [e.type, e.payload.by, e.payload.reason ?? null]);
    assert.deepEqual(settled, [['dead_letter.retried', 'carol', null], ['dead_letter.dropped', 'dave', 'done by hand']]);
    assert.equal(text(await client.callTool({ name: 'crm__lookup', arguments: { id: 'still-serving' } })), 'ok still-serving');
  } finally {
    await client?.close().catch(() => undefined);
    await gateway.stop();
    temp.cleanup();
  }
});

test('a letter left retrying by a killed dlq retry is taken back by the next retry or drop; a running or unknown one is not', async () => {
  await inScratchStore(async (dir, db) => {
    const events = new SqliteEventStore(db);
    const table = new SqliteDeadLetterStore(db);
    const recorded: Array<Omit<GatehouseEvent, 'at'>> = [];
    const box = new DeadLetterBox(table, new DeadLetterFile(path.join(dir, 'dead-letters.jsonl')), (e) => void recorded.push(e));
    const rerun = async (letter: { payload: Record<string, unknown> }) => events.appendBatch(letter.payload.events as GatehouseEvent[]);
    const stuck = async (i: number, owner: string) => {
      const letter = await box.add({ kind: 'events', createdAt: new Date().toISOString(), payload: { events: [event(i)] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'down' }, attempts: 4 });
      assert.equal(await table.transition(letter.id, 'open', 'retrying', { at: new Date().toISOString(), by: 'carol', owner }), true);
      return letter.id;
    };
    // A process of this host that has exited, one that still runs (this one's parent), one on another host.
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    const gone = await stuck(1, `${hostname()}:${exited}`);
    const running = await stuck(2, `${hostname()}:${process.ppid}`);
    const elsewhere = await stuck(3, 'some-other-host:123');

    const retried = await box.retry(gone, 'dave', rerun);
    assert.deepEqual([retried.status, retried.attempts, retried.claimedBy], ['retried', 5, processOwner()]);
    assert.deepEqual((await events.read()).map((e) => e.tool), ['t1'], 'appended once');
    assert.deepEqual(recorded.filter((e) => e.type !== 'dead_letter.added').map((e) => [e.type, e.payload.by, e.payload.claimedBy ?? null]), [
      ['dead_letter.reopened', 'dave', `${hostname()}:${exited}`],
      ['dead_letter.retried', 'dave', null],
    ]);

    await assert.rejects(box.retry(running, 'dave', rerun), (error: Error & { code?: string }) => error.code === 'GH_DEAD_LETTER_SETTLED' && /still running/.test(error.message));
    await assert.rejects(box.drop(running, 'dave', 'x', { reclaim: true }), /still running/, 'a running retry is never taken over');
    await assert.rejects(box.drop(elsewhere, 'dave', 'done by hand'), /another host \(pass --reclaim if it is gone\)/);
    assert.deepEqual([(await table.get(running))?.status, (await table.get(elsewhere))?.status], ['retrying', 'retrying'], 'refusals change nothing');
    const dropped = await box.drop(elsewhere, 'dave', 'done by hand', { reclaim: true });
    assert.deepEqual([dropped.status, dropped.error.code, dropped.settleReason], ['dropped', 'GH_GATEWAY_STOPPED', 'done by hand']);
    assert.equal(recorded.filter((e) => e.type === 'dead_letter.reopened').at(-1)?.payload.reclaimed, true);
    assert.deepEqual((await events.read()).map((e) => e.tool), ['t1'], 'nothing of the others ran');
  });
});

test('dlq list: newest first over table and file, and a letter in both (moved in, the move not yet noted in the file) once, from the table', async () => {
  await inScratchStore(async (dir, db) => {
    const table = new SqliteDeadLetterStore(db);
    const file = new DeadLetterFile(path.join(dir, 'dead-letters.jsonl'));
    const box = new DeadLetterBox(table, file, () => undefined);
    appendFileSync(file.file, [filedLetter('dl_old', '2025-01-01T00:00:00.000Z'), filedLetter('dl_moved', '2025-03-01T00:00:00.000Z'), filedLetter('dl_newest', '2025-04-01T00:00:00.000Z'), ''].join('\n'));
    // What a dlq command stopped between the two steps of a move leaves behind.
    await table.add(JSON.parse(filedLetter('dl_moved', '2025-03-01T00:00:00.000Z')) as DeadLetter, 'dl_moved');
    await box.add({ kind: 'events', createdAt: '2025-02-01T00:00:00.000Z', payload: { events: [event(2)] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'down' }, attempts: 4 });
    const { letters } = await box.list();
    assert.deepEqual(letters.map((letter) => [letter.createdAt.slice(0, 7), letter.where]), [['2025-04', 'file'], ['2025-03', 'store'], ['2025-02', 'store'], ['2025-01', 'file']]);
    assert.equal(letters[1]!.id, 'dl_moved');
  });
});

test('dlq list holds the newest --limit letters of table and file together, and says when there are more', async () => {
  await inScratchStore(async (dir, db) => {
    const box = new DeadLetterBox(new SqliteDeadLetterStore(db), new DeadLetterFile(path.join(dir, 'dead-letters.jsonl')), () => undefined);
    for (const month of ['01', '02', '04']) {
      await box.add({ kind: 'events', createdAt: `2025-${month}-01T00:00:00.000Z`, payload: { events: [event(1)] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'down' }, attempts: 4 });
    }
    appendFileSync(path.join(dir, 'dead-letters.jsonl'), `${filedLetter('dl_filed', '2025-03-01T00:00:00.000Z')}\n`);
    const two = await box.list(undefined, 2);
    assert.deepEqual(two.letters.map((letter) => [letter.createdAt.slice(0, 7), letter.where]), [['2025-04', 'store'], ['2025-03', 'file']]);
    assert.equal(two.more, true);
    const four = await box.list(undefined, 4);
    assert.equal(four.letters.length, 4);
    assert.equal(four.more, false);
  });
});

test('dlq list --limit: the newest that many, a note on stderr when there are more, and a limit that is not a whole number above 0 refused', async () => {
  const temp = tempConfig({ store: { kind: 'sqlite', path: 'state/g.db' }, servers: {}, profiles: {}, audit: { deadLetterFile: 'state/dl.jsonl', signingKeyFile: 'state/key.pem' } });
  try {
    const db = openSqlite(path.join(temp.dir, 'state/g.db'));
    const table = new SqliteDeadLetterStore(db);
    for (const month of ['01', '02']) await table.add({ kind: 'events', createdAt: `2025-${month}-01T00:00:00.000Z`, payload: { events: [event(1)] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'down' }, attempts: 4 });
    db.close();
    const one = runCli(['dlq', 'list', '--limit', '1', '--json', '--config', temp.configPath]);
    assert.equal(one.status, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as DeadLetter[]).map((letter) => letter.createdAt.slice(0, 7)), ['2025-02']);
    assert.equal(one.stderr, 'note: there are more open dead letters than the 1 listed (the newest); --limit lists more\n');
    const all = runCli(['dlq', 'list', '--config', temp.configPath]);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stderr, '', 'no note when every letter is listed');
    for (const bad of ['0', '1.5', 'x']) {
      const refused = runCli(['dlq', 'list', '--limit', bad, '--config', temp.configPath]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /--limit/);
    }
  } finally {
    temp.cleanup();
  }
});

test('a dead-lettered batch is announced with dead_letter.added unless it holds only such announcements (which would loop)', async () => {
  await inScratchStore(async (dir, db) => {
    const recorded: string[] = [];
    const box = new DeadLetterBox(new SqliteDeadLetterStore(db), new DeadLetterFile(path.join(dir, 'dead-letters.jsonl')), (e) => void recorded.push(e.type));
    const announcement = { ...event(1), type: 'dead_letter.added' } as GatehouseEvent;
    await box.addEvents([announcement, announcement], new Error('disk I/O error'), 4);
    assert.deepEqual(recorded, []);
    await box.addEvents([announcement, event(2)], new Error('disk I/O error'), 4);
    assert.deepEqual(recorded, ['dead_letter.added'], 'a batch with other events in it is announced');
  });
});
