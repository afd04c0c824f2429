import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { httpClient, REPO, runCli, startServe, tempConfig, text, TOKENS, waitFor } from './helpers/gatehouse.js';

const FIXTURE = path.join(REPO, 'dist/test/fixtures/governance-server.js');

interface ToolRow {
  tool: string;
  gate: string;
  source: string;
  pin: string;
}

function toolsTable(configPath: string, env: Record<string, string> = {}): Map<string, ToolRow> {
  const listed = runCli(['tools', '--json', '--config', configPath], env);
  assert.equal(listed.status, 0, listed.stderr);
  return new Map((JSON.parse(listed.stdout) as { tools: ToolRow[] }).tools.map((row) => [row.tool, row]));
}

test('a tool whose definition changes between runs is quarantined until an operator accepts it', async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      gov: {
        command: process.execPath,
        args: [FIXTURE],
        env: { GOV_VARIANT: '${GOV_VARIANT:-a}' },
        defaultGate: 'G0',
        tools: { send_message: { gate: 'G3' }, 'write_*': { gate: 'G1' } },
      },
    },
    profiles: { main: { allow: ['gov/*'] }, reader: { allow: ['gov/read_*'] }, lazy: { mode: 'lazy', allow: ['gov/*'] } },
    agents: { alice: { profiles: ['main', 'lazy'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  try {
    assert.equal(runCli(['index', '--config', temp.configPath]).status, 0);
    const first = toolsTable(temp.configPath);
    assert.deepEqual(first.get('gov/write_note'), { tool: 'gov/write_note', gate: 'G1', source: 'config servers.gov.tools.write_*', pin: 'pinned' });
    assert.deepEqual(first.get('gov/send_message'), { tool: 'gov/send_message', gate: 'G3', source: 'config servers.gov.tools.send_message', pin: 'pinned' });
    assert.equal(first.get('gov/update_record')?.gate, 'G2', 'destructiveHint raises the G0 default');
    assert.match(first.get('gov/update_record')!.source, /raised to G2 by annotation destructiveHint/);
    const reader = runCli(['tools', '--json', '--profile', 'reader', '--config', temp.configPath]);
    assert.deepEqual((JSON.parse(reader.stdout) as { tools: ToolRow[] }).tools.map((row) => row.tool), ['gov/read_value']);
    const unknownProfile = runCli(['tools', '--profile', 'nope', '--config', temp.configPath]);
    assert.equal(unknownProfile.status, 1);
    assert.match(unknownProfile.stderr, /GH_PROFILE_UNKNOWN: unknown profile "nope"/);

    // The server now describes write_note differently and gives read_value another schema.
    assert.equal(runCli(['index', '--config', temp.configPath], { GOV_VARIANT: 'b' }).status, 0);
    const second = toolsTable(temp.configPath);
    assert.equal(second.get('gov/write_note')?.pin, 'quarantined');
    assert.equal(second.get('gov/read_value')?.pin, 'quarantined');
    assert.equal(second.get('gov/echo_tool')?.pin, 'pinned');

    const gateway = await startServe(temp.configPath, { GOV_VARIANT: 'b' });
    try {
      const alice = await httpClient(gateway.url, 'main', TOKENS.alice);
      const names = async () => (await alice.listTools()).tools.map((tool) => tool.name);
      assert.deepEqual((await names()).filter((name) => name === 'gov__write_note' || name === 'gov__read_value'), []);
      const refused = (await alice.callTool({ name: 'gov__write_note', arguments: { text: 'x' } })) as { isError?: boolean; _meta?: { gatehouse?: { code: string } } };
      assert.equal(refused.isError, true);
      assert.equal(refused._meta?.gatehouse?.code, 'GH_TOOL_QUARANTINED');
      assert.equal(text(await alice.callTool({ name: 'gov__echo_tool', arguments: { text: 'still here' } })), 'still here');
      // Lazily, the changed definition is neither found, shown nor run.
      const lazy = await httpClient(gateway.url, 'lazy', TOKENS.alice);
      const described = (await lazy.callTool({ name: 'describe_tool', arguments: { name: 'gov__read_value' } })) as { isError?: boolean; _meta?: { gatehouse?: { code: string } } };
      assert.equal(described.isError, true, text(described));
      assert.equal(described._meta?.gatehouse?.code, 'GH_TOOL_QUARANTINED');
      assert.doesNotMatch(text(described), /inputSchema/);
      const search = await lazy.callTool({ name: 'search_tools', arguments: { query: 'read value' } });
      assert.ok(!(search.structuredContent as { results: Array<{ name: string }> }).results.some((hit) => hit.name === 'gov__read_value'), text(search));
      const viaMeta = (await lazy.callTool({ name: 'call_tool', arguments: { name: 'gov__read_value', arguments: {} } })) as { _meta?: { gatehouse?: { code: string } } };
      assert.equal(viaMeta._meta?.gatehouse?.code, 'GH_TOOL_QUARANTINED');
      assert.equal(((await lazy.callTool({ name: 'describe_tool', arguments: { name: 'gov__echo_tool' } })).structuredContent as { name: string }).name, 'gov__echo_tool');
      await lazy.close();

      // An idle session is told when the acceptance lands, without asking.
      let listChanged = 0;
      alice.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        listChanged += 1;
      });
      const accepted = runCli(['tools', 'accept', 'gov/write_note', '--by', 'carol', '--config', temp.configPath]);
      assert.equal(accepted.status, 0, accepted.stderr);
      await waitFor(() => listChanged > 0, 5_000, 'tools/list_changed after the acceptance');
      await waitFor(async () => (await names()).includes('gov__write_note'), 5_000, 'write_note to be listed again');
      assert.equal(text(await alice.callTool({ name: 'gov__write_note', arguments: { text: 'hello' } })), 'noted: hello');
      assert.ok(!(await names()).includes('gov__read_value'), 'read_value stays quarantined');
      const twice = runCli(['tools', 'accept', 'gov/write_note', '--config', temp.configPath]);
      assert.equal(twice.status, 1);
      assert.match(twice.stderr, /GH_TOOL_UNKNOWN: gov\/write_note is not quarantined/);
      await alice.close();
    } finally {
      await gateway.stop();
    }
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    const quarantined = await events.read({ type: 'tool.quarantined' });
    assert.deepEqual(quarantined.map((e) => [e.tool, e.payload.changed]).sort(), [['read_value', ['inputSchema']], ['write_note', ['description']]]);
    assert.equal(await events.count('tool.accepted'), 1);
  } finally {
    temp.cleanup();
  }
});
