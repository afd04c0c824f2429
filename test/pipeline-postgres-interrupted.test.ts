/**
 * PostgreSQL runs stopped midway, against a real cluster this file starts: the run is made to wait on a lock this test
 * holds, so that it is surely in the middle of a statement in the server when the CLI gets its signal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openEngine } from '../src/pipeline/engines/open.js';
import { generate } from '../src/pipeline/generate/generate.js';
import { finalHashes } from '../src/pipeline/run/publish.js';
import { CLI, REPO } from './helpers/gatehouse.js';
import { definition, DEFINITION_PATH } from './helpers/pipeline.js';
import { postgresForThisFile } from './helpers/postgres.js';

const postgres = postgresForThisFile();

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `exited` settles when it ends, and fails the test if that takes longer than `timeoutMs` (it is then killed). */
/**
 * The system temp folder of the runs started here: their own, because any PostgreSQL run on this machine (another
 * test file's, running at the same time) sweeps the working-copy folders of processes that are gone, the one this
 * file's SIGKILL test looks at included.
 */
let runTemp: string;

function startCli(args: string[], timeoutMs = 120_000): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: runTemp } });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.slice(0, 2).join(' ')} did not end within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited };
}

/** Polls `check` every 100 ms until it is true; false if it is not within `ms`. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL pipeline runs stopped midway', () => {
  let work: string;
  let data: string;
  let url: string;
  let common: string[];
  /** The test's sessions: one reads pg_stat_activity (outside a transaction, which would keep its first snapshot of it), one holds the locks. */
  let admin: pg.Client;
  let locker: pg.Client;
  const otherSessions = async (): Promise<Array<{ pid: number; state: string; wait_event_type: string | null; query: string }>> =>
    (await admin.query(`SELECT pid, state, wait_event_type, query FROM pg_stat_activity WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $1)`, [lockerPid])).rows;
  /** Whether a session of the run waits on a lock (the one this test holds): it is in the middle of a statement. */
  const runWaits = async () => (await otherSessions()).some((session) => session.wait_event_type === 'Lock');
  const runs = async () => (await admin.query<{ run_id: number; status: string; error: string | null }>('SELECT run_id, status, error FROM ops.runs ORDER BY run_id')).rows;
  const scratchTables = async () => (await admin.query(`SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'gh\\_%' AND c.relkind = 'r'`)).rows.map((row) => String(row.name));
  const final = async () => {
    const engine = await openEngine({ engine: 'postgres', url });
    try {
      return await finalHashes({ engine, definition: definition().definition });
    } finally {
      await engine.close();
    }
  };
  /** Holds an ACCESS EXCLUSIVE lock on `table` in an open transaction, until `release`. */
  const lock = async (table: string) => {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    return { release: () => locker.query('ROLLBACK') };
  };
  let lockerPid = 0;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-pg-interrupted-'));
    runTemp = path.join(work, 'tmp');
    mkdirSync(runTemp);
    data = path.join(work, 'data');
    generate({ rows: 3_000, seed: 3, outDir: data, faultScale: 1 });
    url = await postgres.freshDatabase();
    common = ['--definition', DEFINITION_PATH, '--engine', 'postgres', '--pg-url', url];
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    locker = new pg.Client({ connectionString: url });
    await locker.connect();
    lockerPid = Number((await locker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const first = await startCli(['pipeline', 'run', '--data', data, ...common]).exited;
    assert.equal(first.code, 0, first.stderr);
  });
  after(async () => {
    await admin?.end();
    await locker?.end();
    rmSync(work, { recursive: true, force: true });
  });

  test('SIGINT or SIGTERM cancels the statement in the server: run interrupted, Final unchanged, exit 130 or 143', async () => {
    const finalBefore = await final();
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const before = (await runs()).at(-1)!;
      // Gate A's first table waits at its gate count, its scratch tables made.
      const held = await lock('ops.gate_counts');
      const { child, exited } = startCli(['pipeline', 'replay', '--from', 'raw', ...common]);
      try {
        assert.ok(await within(60_000, runWaits), 'the run reaches the locked table');
        child.kill(signal);
        const stopped = await exited;
        assert.equal(stopped.code, code, stopped.stderr);
        assert.match(stopped.stderr, new RegExp(`\\nerror GH_PIPELINE_INTERRUPTED: stopped by ${signal} before it finished\\n$`));
        assert.doesNotMatch(stopped.stderr, /\n\s+at /);
        // The server ends a session soon after its client closes it; one left running the cancelled statement would wait on the lock.
        assert.ok(await within(3_000, async () => (await otherSessions()).length === 0), `no session of the run is left: ${JSON.stringify(await otherSessions())}`);
        assert.deepEqual(await scratchTables(), [], 'its scratch tables went with its session');
      } finally {
        await held.release();
      }
      const run = (await runs()).at(-1)!;
      assert.equal(Number(run.run_id), Number(before.run_id) + 1);
      assert.equal(run.status, 'interrupted');
      assert.equal(run.error, `interrupted: stopped by ${signal} before it finished; Final was not changed by it`);
    }
    assert.deepEqual(await final(), finalBefore, 'Final is as it was');
    const next = await startCli(['pipeline', 'replay', '--from', 'raw', ...common]).exited;
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /replay: Final tables byte-identical/);
  });

  test('a run killed (SIGKILL) in the middle of a statement: the server ends it; the next run is not blocked, marks it interrupted and removes its working copies', async () => {
    // Ingest waits at its first look-up in ops.raw_files, its working-copy folder made.
    const held = await lock('ops.raw_files');
    let killedPid: number;
    try {
      const { child, exited } = startCli(['pipeline', 'run', '--data', data, ...common]);
      assert.ok(await within(60_000, runWaits), 'the run reaches the locked table');
      killedPid = child.pid!;
      child.kill('SIGKILL');
      assert.equal((await exited).signal, 'SIGKILL');
      // The lock is still held: a session that had not noticed its client was gone would still be waiting for it.
      assert.ok(await within(5_000, async () => (await otherSessions()).length === 0), `the server ended the killed run's session: ${JSON.stringify(await otherSessions())}`);
    } finally {
      await held.release();
    }
    const leftover = path.join(runTemp, `gatehouse-pg-scratch-${killedPid}`);
    assert.ok(existsSync(leftover) && readdirSync(leftover).some((name) => name.startsWith('gatehouse-raw-')), 'the killed run left its working-copy folder');
    const killed = (await runs()).at(-1)!;
    assert.equal(killed.status, 'running');

    const started = startCli(['pipeline', 'run', '--data', data, ...common], 60_000);
    const next = await started.exited;
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`run ${killed.run_id} interrupted: the process running it \\(${hostname()}:${killedPid}\\) stopped before it published; Final was not changed by it`));
    assert.match(next.stderr, new RegExp(`removed the working copies a stopped run left: .*gatehouse-pg-scratch-${killedPid}\\b`));
    assert.equal(existsSync(leftover), false, 'its working copies are removed');
    assert.equal(existsSync(path.join(runTemp, `gatehouse-pg-scratch-${started.child.pid}`)), false, 'and the next run leaves none of its own');
    const statuses = (await runs()).slice(-2).map((run) => [Number(run.run_id), run.status]);
    assert.deepEqual(statuses, [[Number(killed.run_id), 'interrupted'], [Number(killed.run_id) + 1, 'published']]);
  });

  test('a killed pipeline process\'s session that the server did not end (PostgreSQL before 14, a pooler between) is ended by the next run, which is not blocked', async () => {
    const before = (await runs()).at(-1)!;
    // Such a session, as a Gatehouse that set no client check leaves it: named by its process, in a statement, holding a
    // lock every run needs, its process killed. The server, not checking, runs the statement on.
    const orphan = spawn(
      process.execPath,
      [
        '-e',
        `const pg = require('pg');
         const client = new pg.Client({ connectionString: process.argv[1], application_name: 'gatehouse pipeline ${hostname()}:' + process.pid });
         client.connect().then(async () => {
           await client.query('BEGIN');
           await client.query('LOCK TABLE ops.runs IN ACCESS EXCLUSIVE MODE');
           console.log('locked');
           await client.query('SELECT pg_sleep(600)');
         });`,
        url,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const orphanName = `gatehouse pipeline ${hostname()}:${orphan.pid}`;
    await new Promise((resolve) => orphan.stdout!.once('data', resolve));
    assert.ok(await within(10_000, async () => (await otherSessions()).some((session) => session.query.includes('pg_sleep'))));
    orphan.kill('SIGKILL');
    await new Promise((resolve) => orphan.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const named = async () => (await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [orphanName])).rows.length;
    assert.equal(await named(), 1, 'the server runs the killed process\'s statement on');

    const next = await startCli(['pipeline', 'run', '--data', data, ...common], 60_000).exited;
    assert.equal(next.code, 0, next.stderr);
    assert.equal(await named(), 0, 'its session was ended');
    assert.equal(Number((await runs()).at(-1)!.run_id), Number(before.run_id) + 1);
  });
});
