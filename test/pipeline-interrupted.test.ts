import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEngine } from '../src/pipeline/engines/open.js';
import { generate } from '../src/pipeline/generate/generate.js';
import { CLI, runCli } from './helpers/gatehouse.js';
import { DEFINITION_PATH } from './helpers/pipeline.js';

interface StatusRun {
  run_id: number;
  status: string;
  error: string | null;
}

/** Starts the CLI and sends it `signal` as soon as a line on its stderr matches `at`: its exit code (or the signal that ended it) and stderr. */
function signalWhen(args: string[], at: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (!sent && at.test(stderr)) sent = child.kill(signal);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, ended) => (sent ? resolve({ code, signal: ended, stderr }) : reject(new Error(`the run ended (${code}) before ${at}: ${stderr}`))));
  });
}

describe('pipeline runs stopped midway', () => {
  let work: string;
  let data: string;
  let db: string;
  let common: string[];
  const status = (): StatusRun[] => {
    const result = runCli(['pipeline', 'status', '--json', ...common]);
    assert.equal(result.status, 0, result.stderr);
    return (JSON.parse(result.stdout) as { runs: StatusRun[] }).runs;
  };
  const statusOf = (runId: number) => status().find((run) => Number(run.run_id) === runId)!;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-interrupted-'));
    data = path.join(work, 'data');
    generate({ rows: 3_000, seed: 3, outDir: data, faultScale: 1 });
    db = path.join(work, 'p.duckdb');
    common = ['--definition', DEFINITION_PATH, '--db', db];
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('a run killed midway is marked interrupted (Final unchanged) by status and the next run, which removes its working copies', async () => {
    assert.equal(runCli(['pipeline', 'run', '--data', data, ...common]).status, 0);
    const published = statusOf(1);
    assert.equal(published.status, 'published');
    // SIGKILL: nothing the process can catch.
    assert.equal((await signalWhen(['pipeline', 'replay', '--from', 'raw', ...common], /gate B on /, 'SIGKILL')).signal, 'SIGKILL');
    // What a run killed while it loaded a file leaves in <db>.tmp.
    const leftover = path.join(`${db}.tmp`, 'gatehouse-raw-AbC123');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(path.join(leftover, 'decoded.txt'), 'half a file\n');

    const interrupted = statusOf(2);
    assert.equal(interrupted.status, 'interrupted', 'not left running for ever');
    assert.match(String(interrupted.error), /^interrupted: the process running it \(.+:\d+\) stopped before it published; Final was not changed by it/);
    const text = runCli(['pipeline', 'status', ...common]);
    assert.match(text.stdout, /\brun 2 interrupted: the process running it/);

    const next = runCli(['pipeline', 'run', '--data', data, ...common]);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(existsSync(leftover), false, 'the working copies the stopped run left are removed');
    assert.equal(existsSync(`${db}.tmp`), false, 'and <db>.tmp with them, once empty');
    assert.deepEqual(status().map((run) => [Number(run.run_id), run.status]), [[3, 'published'], [2, 'interrupted'], [1, 'published']]);
  });

  test('a run left running after it had published says Final holds its tables, and records their hashes', async () => {
    const engine = await openEngine({ engine: 'duckdb', database: db });
    let hashes: string;
    try {
      const [last] = await engine.query(`SELECT run_id, final_hashes FROM ops.runs WHERE status = 'published' ORDER BY run_id DESC LIMIT 1`);
      hashes = String(last!.final_hashes);
      // What an older Gatehouse left when it was stopped between the publish and the update of its status (and runs named no owner).
      await engine.exec(`UPDATE ops.runs SET status = 'running', finished_at = NULL, final_hashes = NULL, owner = NULL WHERE run_id = ${Number(last!.run_id)}`);
    } finally {
      await engine.close();
    }
    const run = statusOf(3);
    assert.equal(run.status, 'interrupted');
    assert.match(String(run.error), /^interrupted: the process running it stopped after it had published Final \(assessment, assessment_entities, enrollment, schools\): Final holds this run's tables/);
    const reopened = await openEngine({ engine: 'duckdb', database: db, existing: true });
    try {
      const [record] = await reopened.query('SELECT final_hashes FROM ops.runs WHERE run_id = 3');
      assert.deepEqual(JSON.parse(String(record!.final_hashes)), JSON.parse(hashes));
    } finally {
      await reopened.close();
    }
  });

  test('SIGINT or SIGTERM stops a run on the record: interrupted, Final unchanged, exit 130 or 143', async () => {
    for (const [signal, code, args] of [['SIGTERM', 143, ['replay', '--from', 'raw']], ['SIGINT', 130, ['run', '--data', data]]] as const) {
      const before = status()[0]!;
      const stopped = await signalWhen(['pipeline', ...args, ...common], /gate B on /, signal);
      assert.equal(stopped.code, code, stopped.stderr);
      assert.match(stopped.stderr, new RegExp(`\\nerror GH_PIPELINE_INTERRUPTED: stopped by ${signal} before it finished\\n$`));
      assert.doesNotMatch(stopped.stderr, /\n\s+at /);
      const run = status()[0]!;
      assert.equal(Number(run.run_id), Number(before.run_id) + 1);
      assert.equal(run.status, 'interrupted');
      assert.equal(run.error, `interrupted: stopped by ${signal} before it finished; Final was not changed by it`);
    }
    assert.equal(existsSync(`${db}.tmp`), false, 'no working copy left');
    const next = runCli(['pipeline', 'replay', '--from', 'raw', ...common]);
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stdout, /replay: Final tables byte-identical/);
  });
});
