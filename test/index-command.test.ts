import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { childProcesses, httpClient, runCli, SERVERS, startServe, tempConfig, TOKENS } from './helpers/gatehouse.js';

test('gatehouse index seeds snapshot servers without starting them and leaves out invalid tool definitions', async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      everything: SERVERS.everything,
      // Never started: it is seeded from its snapshot (and would fail to start anyway).
      slack: { domain: 'sales', command: 'false' },
    },
    profiles: { all: { mode: 'eager', allow: ['everything/*', 'slack/*'] } },
    agents: { alice: { profiles: ['all'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  try {
    const snapshots = path.join(temp.dir, 'snapshots');
    mkdirSync(snapshots);
    writeFileSync(
      path.join(snapshots, 'slack.json'),
      JSON.stringify([
        { name: 'slack_post_message', description: 'Post a new message to a Slack channel', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
        // As gitlab's release ships them: no "type" in the inputSchema. Clients reject such a list whole.
        { name: 'broken_tool', description: 'Broken', inputSchema: { $schema: 'http://json-schema.org/draft-07/schema#' } },
      ]),
    );
    const indexed = runCli(['index', '--config', temp.configPath, '--snapshot-dir', snapshots]);
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(indexed.stdout, /slack\s+snapshot\s+1\b/);
    assert.match(indexed.stdout, /everything\s+live\s+15\b/);
    assert.match(indexed.stdout, /left out tool "broken_tool": inputSchema/);
    const tools = JSON.parse(runCli(['tools', '--json', '--config', temp.configPath]).stdout) as { tools: Array<{ tool: string; pin: string }> };
    assert.equal(tools.tools.find((row) => row.tool === 'slack/slack_post_message')?.pin, 'pinned', 'a snapshot-seeded tool is pinned too');

    const again = runCli(['index', '--config', temp.configPath, '--missing']);
    assert.equal(again.status, 0);
    assert.doesNotMatch(again.stdout, /everything|slack/, '--missing skips servers already in the cache');

    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'all', TOKENS.alice);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('slack__slack_post_message'));
      assert.ok(!names.includes('slack__broken_tool'));
      assert.equal(names.length, 16);
      assert.equal(childProcesses(gateway.process.pid!).length, 0);
      await client.close();
    } finally {
      await gateway.stop();
    }
    const failing = runCli(['index', '--config', temp.configPath, '--server', 'slack']);
    assert.equal(failing.status, 1, 'a server that cannot start fails the index run');
    assert.match(failing.stdout, /slack\s+FAILED/);
  } finally {
    temp.cleanup();
  }
});

test('gatehouse index keeps the cached listing when a snapshot leaves no valid tool, and says why', () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { slack: { domain: 'sales', command: 'false' } },
    profiles: { all: { mode: 'eager', allow: ['slack/*'] } },
  });
  try {
    const snapshots = path.join(temp.dir, 'snapshots');
    mkdirSync(snapshots);
    const snapshot = path.join(snapshots, 'slack.json');
    const index = () => runCli(['index', '--config', temp.configPath, '--snapshot-dir', snapshots]);
    const listed = () => (JSON.parse(runCli(['tools', '--json', '--config', temp.configPath]).stdout) as { tools: Array<{ tool: string }> }).tools.map((row) => row.tool);
    writeFileSync(snapshot, JSON.stringify({ tools: [{ name: 'slack_post_message', inputSchema: { type: 'object' } }] }));
    assert.equal(index().status, 0);
    assert.deepEqual(listed(), ['slack/slack_post_message']);

    writeFileSync(snapshot, JSON.stringify([{ name: 'a' }]));
    const invalid = index();
    assert.equal(invalid.status, 1, invalid.stdout);
    assert.match(invalid.stdout, /slack\s+FAILED\s+.*slack\.json: none of its 1 tools is valid; the cached listing \(1 tools, snapshot .*\) is kept\n\s+invalid tool "a": inputSchema/);
    writeFileSync(snapshot, '[]');
    const empty = index();
    assert.equal(empty.status, 1);
    assert.match(empty.stdout, /slack\s+FAILED\s+.*slack\.json: it lists no tool; the cached listing \(1 tools/);
    assert.deepEqual(listed(), ['slack/slack_post_message'], 'the cached listing was not wiped');
  } finally {
    temp.cleanup();
  }
});
