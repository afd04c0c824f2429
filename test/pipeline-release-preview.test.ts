import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PipelineEngine, Row } from '../src/pipeline/engines/engine.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { CLI, runCli, text } from './helpers/gatehouse.js';
import { DEFINITION_PATH, smallDataSet } from './helpers/pipeline.js';

interface Released {
  rows: number;
  partitions: number;
  fromLayer: string;
}
interface Preview {
  dry_run: true;
  would_release: Released;
  sample: Row[];
}

/**
 * The dry run of release_quarantined against the real release, through the pipeline MCP server
 * on a DuckDB file: the server opens the file for each call only, so the test reads it in between.
 */
describe('release_quarantined dry run', () => {
  let data: ReturnType<typeof smallDataSet>;
  let work: string;
  let database: string;
  let client: Client;

  const callTool = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> => (await client.callTool({ name, arguments: args })) as CallToolResult;
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const result = await callTool(name, args);
    assert.ok(!result.isError, `${name}: ${text(result)}`);
    return result.structuredContent!;
  };
  const preview = async (args: Record<string, unknown>) => (await call('release_quarantined', { ...args, reason: 'checked by hand', dry_run: true })) as unknown as Preview;
  const release = async (args: Record<string, unknown>) => ((await call('release_quarantined', { ...args, reason: 'checked by hand', replay: false })) as { released: Released }).released;
  const inDatabase = async <T>(use: (engine: PipelineEngine) => Promise<T>): Promise<T> => {
    const engine = await openEngine({ engine: 'duckdb', database });
    try {
      return await use(engine);
    } finally {
      await engine.close();
    }
  };
  /** What a release writes to (the quarantine changes only at the next run). */
  const releaseState = () =>
    inDatabase(async (engine) => ({
      quarantine: await engine.query('SELECT * FROM ops.quarantine ORDER BY quarantine_id'),
      releases: await engine.query('SELECT * FROM ops.releases ORDER BY release_id'),
    }));
  const releaseCount = async () => (await releaseState()).releases.length;

  before(async () => {
    data = smallDataSet(6_000, 7, 10);
    work = mkdtempSync(path.join(tmpdir(), 'gatehouse-release-preview-'));
    database = path.join(work, 'p.duckdb');
    client = new Client({ name: 'gatehouse-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'demo-server', 'pipeline', '--definition', DEFINITION_PATH, '--data', data.dir, '--db', database],
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'warn' },
        stderr: 'pipe',
      }),
    );
    assert.equal((await call('run_pipeline')).status, 'published');
  });
  after(async () => {
    await client.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(data.dir, { recursive: true, force: true });
  });

  test('a dry run by ids finds ids beyond the first 20 quarantined rows, as the release does', async () => {
    const first = (await call('list_quarantine', { limit: 20 })) as { total: number; rows: Row[] };
    assert.ok(first.total > 20, `${first.total} rows quarantined`);
    const firstIds = new Set(first.rows.map((row) => Number(row.quarantine_id)));
    const nulls = (await call('list_quarantine', { rule: 'B.strict_nulls', limit: 1000 })) as { rows: Row[] };
    const ids = nulls.rows.map((row) => Number(row.quarantine_id)).slice(-3);
    assert.equal(ids.length, 3);
    assert.ok(ids.every((id) => !firstIds.has(id)), `${ids.join(', ')} lie beyond the first 20 rows`);

    const dry = await preview({ ids });
    assert.equal(dry.dry_run, true);
    assert.equal(dry.would_release.rows, 3);
    assert.equal(dry.would_release.partitions, 0);
    assert.deepEqual(dry.sample.map((row) => Number(row.quarantine_id)), ids);
    assert.ok(dry.sample.every((row) => row.rule === 'B.strict_nulls' && typeof row.raw_text === 'string' && typeof row.file === 'string'));

    const releasesBefore = await releaseCount();
    assert.deepEqual(await release({ ids }), dry.would_release);
    assert.equal(await releaseCount(), releasesBefore + 3);
  });

  test('a dry run by rule, district and year writes nothing and reports exactly what the release then releases', async () => {
    // A row rule in a district quarantined in more than one year, so that the year narrows it.
    const [rowRule] = await inDatabase((engine) =>
      engine.query(
        `SELECT rule, district_key, min(year) AS year, count(*) AS all_years FROM ops.quarantine
         WHERE rule NOT IN (SELECT rule FROM ops.partitions WHERE status = 'held')
         GROUP BY rule, district_key HAVING count(DISTINCT year) > 1 ORDER BY rule, district_key LIMIT 1`,
      ),
    );
    assert.ok(rowRule, 'the data set has a district quarantined by a row rule in two years');
    const held = ((await call('pipeline_status')).held as Array<{ rule: string; district_key: string; year: number }>)[0];
    assert.ok(held, 'the data set has a held partition');
    const requests = [
      { rule: String(rowRule.rule), district: String(rowRule.district_key), year: Number(rowRule.year) },
      { rule: held.rule, district: held.district_key, year: held.year },
    ];
    const answers: Released[] = [];
    for (const request of requests) {
      const before = await releaseState();
      const dry = await preview(request);
      assert.deepEqual(await releaseState(), before, `${JSON.stringify(request)}: the dry run wrote nothing`);
      assert.ok(dry.sample.length > 0);
      assert.ok(dry.sample.every((row) => row.rule === request.rule && row.district_key === request.district && Number(row.year) === request.year));
      const released = await release(request);
      assert.deepEqual(released, dry.would_release, `${JSON.stringify(request)}: the dry run said what the release did`);
      assert.equal((await releaseState()).releases.length, before.releases.length + released.rows + released.partitions);
      answers.push(released);
    }
    const [byRow, byPartition] = answers as [Released, Released];
    assert.ok(byRow.rows > 0 && byRow.rows < Number(rowRule.all_years), `${byRow.rows} of ${rowRule.all_years} rows: only that year`);
    assert.equal(byRow.partitions, 0);
    assert.deepEqual({ rows: byPartition.rows, partitions: byPartition.partitions }, { rows: 0, partitions: 1 }, 'the held partition is released as a partition');
  });

  test('bad input gets the same error in a dry run as in the release, and nothing is written', async () => {
    const [known] = await inDatabase((engine) => engine.query('SELECT min(quarantine_id) AS id FROM ops.quarantine'));
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ids: [999_999] }, /^GH_QUARANTINE_UNKNOWN: /],
      [{ ids: [Number(known!.id), 999_998] }, /^GH_QUARANTINE_UNKNOWN: /],
      [{}, /^GH_QUARANTINE_UNKNOWN: /],
      [{ rule: 'B.no_such_rule' }, /^GH_INVALID_ARGUMENTS: rule "B\.no_such_rule" is not a check/],
      [{ rule: 'B.strict_nulls', district: '9999999', year: 2024 }, /^GH_QUARANTINE_UNKNOWN: /],
    ];
    for (const [args, refusal] of bad) {
      const before = await releaseState();
      const dry = await callTool('release_quarantined', { ...args, reason: 'checked by hand', dry_run: true });
      const real = await callTool('release_quarantined', { ...args, reason: 'checked by hand', replay: false });
      assert.equal(real.isError, true, `${JSON.stringify(args)}: the release refuses`);
      assert.match(text(real), refusal);
      assert.equal(dry.isError, true, `${JSON.stringify(args)}: the dry run refuses too, not ${text(dry)}`);
      assert.equal(text(dry), text(real));
      assert.deepEqual(await releaseState(), before, `${JSON.stringify(args)}: nothing written`);
    }
    assert.match(text(await callTool('release_quarantined', { ids: [Number(known!.id), 999_998], reason: 'checked by hand', replay: false })), /no quarantined row has id 999998/);
  });

  test('a row or partition already released is not released again: overlapping requests release only the rest, a repeat is refused', async () => {
    const nulls = (await call('list_quarantine', { rule: 'B.strict_nulls', limit: 1000 })) as { rows: Row[] };
    const [first, second] = nulls.rows.map((row) => Number(row.quarantine_id));
    assert.ok(first !== undefined && second !== undefined);
    assert.deepEqual(await release({ ids: [first] }), { rows: 1, partitions: 0, fromLayer: 'stage' });
    const before = await releaseCount();
    assert.equal((await preview({ ids: [first, second] })).would_release.rows, 1);
    assert.deepEqual(await release({ ids: [first, second] }), { rows: 1, partitions: 0, fromLayer: 'stage' });
    assert.equal(await releaseCount(), before + 1);
    // The same rows again, and a held partition twice: refused by name, in the dry run as in the release, nothing written.
    const held = ((await call('pipeline_status')).held as Array<{ rule: string; district_key: string; year: number }>)[0]!;
    const partition = { rule: held.rule, district: held.district_key, year: held.year };
    const [{ released: alreadyReleased } = { released: 0 }] = await inDatabase((engine) =>
      engine.query(`SELECT count(*) AS released FROM ops.releases WHERE file_id IS NULL AND rule = '${held.rule}' AND district_key = '${held.district_key}' AND year = ${held.year}`),
    );
    if (Number(alreadyReleased) === 0) assert.equal((await release(partition)).partitions, 1);
    for (const args of [{ ids: [first, second] }, partition]) {
      const state = await releaseState();
      const dry = await callTool('release_quarantined', { ...args, reason: 'checked by hand', dry_run: true });
      const real = await callTool('release_quarantined', { ...args, reason: 'checked by hand', replay: false });
      assert.equal(real.isError, true, `${JSON.stringify(args)}: refused`);
      assert.match(text(real), /^GH_QUARANTINE_RELEASED: every row and partition this matches is already released; replay from (stage|enrich) to apply the release/);
      assert.equal(text(dry), text(real));
      assert.deepEqual(await releaseState(), state, `${JSON.stringify(args)}: nothing written`);
    }
  });

  test('gatehouse pipeline quarantine release --dry-run says what the release would do and writes nothing', async () => {
    const held = ((await call('pipeline_status')).held as Array<{ rule: string; district_key: string; year: number }>).at(-1);
    assert.ok(held);
    const args = ['pipeline', 'quarantine', 'release', '--rule', held.rule, '--district', held.district_key, '--year', String(held.year), '--reason', 'checked by hand', '--definition', DEFINITION_PATH, '--db', database];
    const before = await releaseState();
    const dry = runCli([...args, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would release 0 quarantined row\(s\) and 1 held partition\(s\)/);
    assert.match(dry.stdout, new RegExp(`${held.district_key}:${held.year}`));
    assert.deepEqual(await releaseState(), before, 'the dry run wrote nothing');
    const real = runCli(args);
    assert.equal(real.status, 0, real.stderr);
    assert.match(real.stdout, /released 0 quarantined row\(s\) and 1 held partition\(s\)/);
    assert.equal(await releaseCount(), before.releases.length + 1);
  });

  test('list_quarantine narrows by gate and district; rows of two gates replay from the earlier gate; every release gets its own id', async () => {
    const all = (await call('list_quarantine', { limit: 1000 })) as { total: number; rows: Row[] };
    const ofGate = (await call('list_quarantine', { gate: 'C', limit: 1000 })) as { total: number; rows: Row[] };
    assert.ok(ofGate.total > 0 && ofGate.total < all.total, `${ofGate.total} of ${all.total}`);
    assert.ok(ofGate.rows.every((row) => row.gate === 'C'));
    const district = String(ofGate.rows[0]!.district_key);
    const ofDistrict = (await call('list_quarantine', { district, limit: 1000 })) as { total: number; rows: Row[] };
    assert.ok(ofDistrict.total > 0 && ofDistrict.total < all.total, `${ofDistrict.total} of ${all.total}`);
    assert.ok(ofDistrict.rows.every((row) => row.district_key === district));

    // One row of gate B (not released by the tests before) and one of gate C: B's rows are judged again only from Stage on.
    const nulls = (await call('list_quarantine', { rule: 'B.strict_nulls', limit: 1000 })) as { rows: Row[] };
    const ids = [Number(nulls.rows[2]!.quarantine_id), Number(ofGate.rows[0]!.quarantine_id)];
    assert.deepEqual((await preview({ ids })).would_release, { rows: 2, partitions: 0, fromLayer: 'stage' });
    assert.deepEqual(await release({ ids }), { rows: 2, partitions: 0, fromLayer: 'stage' });
    const [ledger] = await inDatabase((engine) => engine.query('SELECT count(*) AS n, count(DISTINCT release_id) AS ids FROM ops.releases'));
    assert.ok(Number(ledger!.n) > 2);
    assert.equal(Number(ledger!.ids), Number(ledger!.n), 'no two releases share an id');
  });
});
