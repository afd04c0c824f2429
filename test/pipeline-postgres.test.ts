/**
 * The same pipeline on PostgreSQL, against a real cluster this file starts on a loopback port.
 * (The shared PostgreSQL test helper of the pg branch was not on main when this was written, so
 * the smallest one needed is here: initdb + pg_ctl in a temp folder, as the postgres user when root.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PipelineEngine } from '../src/pipeline/engines/engine.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { runPipeline } from '../src/pipeline/run/run.js';
import { assertEveryRowDisposed, assertFaultsFound, definition, smallDataSet } from './helpers/pipeline.js';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** initdb + pg_ctl start on 127.0.0.1 (fsync off: nothing here is about durability); returns the URL of a fresh database and a stop function. */
async function startCluster(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const as = (command: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args));
  const port = await freePort();
  await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const settings = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await as('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', settings]);
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE pipeline');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/pipeline`,
    stop: async () => {
      await as('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('pipeline on PostgreSQL', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let data: ReturnType<typeof smallDataSet>;
  let engine: PipelineEngine;
  const quiet = { progress: () => undefined };
  before(async () => {
    cluster = await startCluster();
    data = smallDataSet(8_000, 7, 10);
    engine = await openEngine({ engine: 'postgres', url: cluster.url });
  });
  after(async () => {
    await engine?.close();
    await cluster?.stop();
    rmSync(data.dir, { recursive: true, force: true });
  });

  test('a run finds exactly the injected faults and disposes of every row, as on DuckDB', async () => {
    const report = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.equal(report.status, 'published');
    const found = await assertFaultsFound(engine, data.manifest);
    assert.ok(found.filter((entry) => entry.injected > 0).length >= 5);
    await assertEveryRowDisposed(engine, data.manifest);
    for (const gate of report.gates) assert.equal(gate.rowsIn, gate.promoted + gate.quarantined, `${gate.gate} ${gate.table}`);
    const [checks] = await engine.query('SELECT count(DISTINCT check_id) AS n FROM ops.check_results');
    assert.ok(Number(checks!.n) >= 25);
  });

  test('the same files again are skipped; replays from every layer give identical Final tables', async () => {
    const again = await runPipeline(engine, definition(), { dataDir: data.dir, ...quiet });
    assert.ok(again.files.every((file) => file.status === 'skipped'));
    for (const from of ['raw', 'stage', 'std', 'enrich', 'semantic'] as const) {
      const replay = await runPipeline(engine, definition(), { from, ...quiet });
      assert.deepEqual(replay.finalAfter, again.finalAfter, `replay from ${from}`);
    }
  });

  test('DuckDB and PostgreSQL publish the same rows', async () => {
    const duck = await openEngine({ engine: 'duckdb', database: ':memory:' });
    try {
      await runPipeline(duck, definition(), { dataDir: data.dir, ...quiet });
      const digest = (engine: PipelineEngine) =>
        engine.query(
          `SELECT (SELECT count(*) FROM final.enrollment) AS enrollment, (SELECT sum(total_enr) FROM final.enrollment) AS enrolled,
             (SELECT count(*) FROM final.assessment) AS assessment, (SELECT sum(students_tested) FROM final.assessment) AS tested,
             (SELECT count(*) FROM final.schools) AS schools, (SELECT count(*) FROM ops.quarantine) AS quarantined`,
        );
      assert.deepEqual(await digest(engine), await digest(duck));
    } finally {
      await duck.close();
    }
  });
});
