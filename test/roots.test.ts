import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { httpClient, SERVERS, startServe, tempConfig, text, TOKENS } from './helpers/gatehouse.js';

test('roots/list from a server with forwardRoots reaches the calling agent; without it the server never asks', async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: {
      rooted: { ...SERVERS.everything, forwardRoots: true },
      plain: SERVERS.everything,
    },
    profiles: { p: { mode: 'eager', allow: ['rooted/*', 'plain/*'] } },
    agents: { alice: { profiles: ['p'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  const gateway = await startServe(temp.configPath);
  try {
    const client = await httpClient(gateway.url, 'p', TOKENS.alice, { roots: { listChanged: false } });
    let asked = 0;
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked += 1;
      return { roots: [{ uri: 'file:///work/agent-project', name: 'agent project' }] };
    });
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    // server-everything offers get-roots-list only to clients that declare roots.
    assert.ok(names.includes('rooted__get-roots-list'), names.join(','));
    assert.ok(!names.includes('plain__get-roots-list'), 'the gateway declares roots only for servers with forwardRoots');
    const result = await client.callTool({ name: 'rooted__get-roots-list', arguments: {} });
    assert.match(text(result), /file:\/\/\/work\/agent-project/);
    assert.ok(asked >= 1);
    await client.close();
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});
