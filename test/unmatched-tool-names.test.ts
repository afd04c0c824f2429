import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../src/config/load.js';
import { unmatchedToolNames } from '../src/governance/unmatched-tool-names.js';
import { runCli, SERVERS, tempConfig } from './helpers/gatehouse.js';

const MEMORY_TOOLS = ['create_entities', 'create_relations', 'delete_entities', 'read_graph', 'search_nodes'];

test('tool names in the config that match no listed tool are named by their key, with the nearest name', () => {
  const config = validateConfig(
    {
      servers: {
        memory: { command: 'x', defaultGate: 'G0', tools: { create_entitie: { gate: 'G2' }, 'delete_*': { gate: 'G2' }, 'update_*': { gate: 'G2' }, read_graph: { gate: 'G0' } } },
        other: { command: 'y', tools: { anything: { gate: 'G3' } } },
      },
      profiles: { p: { allow: ['memory/create_entitie', 'memory/read_*', 'memory/nothing_*', 'other/x', '*/read_graph'] } },
    },
    '/tmp/gatehouse.yaml',
    {},
  );
  assert.deepEqual(unmatchedToolNames(config, new Map([['memory', MEMORY_TOOLS]])), [
    'servers.memory.tools.create_entitie: matches no tool of "memory" (did you mean "create_entities"?)',
    'servers.memory.tools.update_*: matches no tool of "memory" (it lists 5 tools)',
    'profiles.p.allow[0]: "memory/create_entitie" matches no listed tool',
    'profiles.p.allow[2]: "memory/nothing_*" matches no listed tool',
  ]);
  // A server without a known listing is not judged, nor an entry that can name it.
  assert.deepEqual(unmatchedToolNames(config, new Map()), []);
});

test('gatehouse tools warns about a misspelt gate rule, which leaves the tool at its default gate', () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { memory: { ...SERVERS.memory, defaultGate: 'G0', tools: { create_entitie: { gate: 'G2' } } } },
    profiles: { p: { allow: ['memory/*'] } },
  });
  try {
    const indexed = runCli(['index', '--config', temp.configPath]);
    assert.equal(indexed.status, 0, indexed.stderr);
    const listed = runCli(['tools', '--config', temp.configPath]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /memory\/create_entities\s+G0/);
    assert.match(listed.stderr, /^warning: servers\.memory\.tools\.create_entitie: matches no tool of "memory" \(did you mean "create_entities"\?\)$/m);
    const json = JSON.parse(runCli(['tools', '--json', '--config', temp.configPath]).stdout) as { unmatched: string[] };
    assert.equal(json.unmatched.length, 1);
  } finally {
    temp.cleanup();
  }
});
