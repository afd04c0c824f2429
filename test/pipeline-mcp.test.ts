import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI } from './helpers/gatehouse.js';
import { DEFINITION_PATH, smallDataSet } from './helpers/pipeline.js';

const call = async (client: Client, name: string, args: Record<string, unknown> = {}) => {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  assert.ok(!result.isError, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Record<string, unknown>;
};

test('the pipeline MCP server: read-only status and quarantine, run (dry and real), release of a held partition', async () => {
  const data = smallDataSet(6_000, 7, 10);
  const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-mcp-'));
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'demo-server', 'pipeline', '--definition', DEFINITION_PATH, '--data', data.dir, '--db', path.join(work, 'p.duckdb')],
    env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'warn' },
    stderr: 'pipe',
  });
  try {
    await client.connect(transport);
    const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool]));
    assert.deepEqual([...tools.keys()].sort(), ['list_quarantine', 'pipeline_status', 'release_quarantined', 'run_pipeline']);
    assert.equal(tools.get('pipeline_status')!.annotations?.readOnlyHint, true);
    assert.equal(tools.get('list_quarantine')!.annotations?.readOnlyHint, true);
    assert.equal(tools.get('run_pipeline')!.annotations?.destructiveHint, true);
    assert.equal(tools.get('release_quarantined')!.annotations?.destructiveHint, true);

    // Before any run, reading tools say so; they do not create the database.
    const early = (await client.callTool({ name: 'pipeline_status', arguments: {} })) as CallToolResult;
    assert.equal(early.isError, true);
    assert.match(JSON.stringify(early.content), /GH_PIPELINE_NOT_LOADED: no pipeline database at/);
    assert.equal(existsSync(path.join(work, 'p.duckdb')), false);
    // Nor does a replay, which reads what runs left as they do.
    const replayFirst = (await client.callTool({ name: 'run_pipeline', arguments: { from: 'stage' } })) as CallToolResult;
    assert.equal(replayFirst.isError, true);
    assert.match(JSON.stringify(replayFirst.content), /GH_PIPELINE_NOT_LOADED: no pipeline database at/);
    assert.equal(existsSync(path.join(work, 'p.duckdb')), false);

    const dry = await call(client, 'run_pipeline', { dry_run: true });
    assert.equal(dry.status, 'dry-run');
    const run = await call(client, 'run_pipeline', { from: 'raw' });
    assert.equal(run.status, 'published');
    // The brief report: the checks that did not pass, and the Final tables the run changed (all new here).
    const failing = run.failing_checks as Array<{ status: string }>;
    assert.ok(failing.length > 0 && failing.every((check) => check.status !== 'pass'), JSON.stringify(failing));
    assert.deepEqual([...(run.final_changed as string[])].sort(), ['assessment', 'assessment_entities', 'enrollment', 'schools']);
    const held = run.held as Array<{ district_key: string; year: number; rule: string }>;
    assert.deepEqual(held.map((entry) => `${entry.district_key}:${entry.year}`).sort(), [...data.manifest.faults.hierarchy_mismatch!.partitions!].sort());

    const status = await call(client, 'pipeline_status');
    assert.equal((status.runs as unknown[]).length, 2);
    assert.equal(status.run, run.run, 'the status is of the last run');
    const misspelt = (await client.callTool({ name: 'list_quarantine', arguments: { rule: 'B.strict_null' } })) as CallToolResult;
    assert.equal(misspelt.isError, true, 'a misspelt rule is refused, not answered with 0 rows');
    assert.match(JSON.stringify(misspelt.content), /GH_INVALID_ARGUMENTS: rule \\"B\.strict_null\\" is not a check/);
    const quarantine = await call(client, 'list_quarantine', { rule: 'B.strict_nulls', limit: 5 });
    assert.equal(quarantine.total, data.manifest.faults.pseudo_null!.count);
    assert.equal((quarantine.rows as unknown[]).length, 5);

    assert.ok(held.length > 0, "the data set has a district to hold back");
    {
      const [first] = held;
      const preview = await call(client, 'release_quarantined', { rule: first!.rule, district: first!.district_key, year: first!.year, reason: 'checked by hand', dry_run: true });
      assert.equal(preview.dry_run, true);
      const released = await call(client, 'release_quarantined', { rule: first!.rule, district: first!.district_key, year: first!.year, reason: 'checked by hand' });
      assert.equal((released.released as { partitions: number }).partitions, 1);
      assert.deepEqual(preview.would_release, released.released, 'the dry run said what the release did');
      const replay = released.replay as { status: string; held: unknown[] };
      assert.equal(replay.status, 'published');
      assert.equal(replay.held.length, held.length - 1);
    }
    const unknown = (await client.callTool({ name: 'release_quarantined', arguments: { rule: 'B.no_such_rule', reason: 'nothing' } })) as CallToolResult;
    assert.equal(unknown.isError, true);
    assert.match(JSON.stringify(unknown.content), /GH_INVALID_ARGUMENTS: rule \\"B\.no_such_rule\\" is not a check/);
    // A check that holds nothing back (a file check) matches no row.
    const nothing = (await client.callTool({ name: 'release_quarantined', arguments: { rule: 'A.hash_match', reason: 'nothing' } })) as CallToolResult;
    assert.equal(nothing.isError, true);
    assert.match(JSON.stringify(nothing.content), /GH_QUARANTINE_UNKNOWN/);
  } finally {
    await client.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(data.dir, { recursive: true, force: true });
  }
});
