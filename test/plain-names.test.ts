import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignNames } from '../src/core/naming.js';
import { httpClient, SERVERS, startServe, tempConfig, text, TOKENS } from './helpers/gatehouse.js';

test('assignNames keeps plain names unless two servers share one', () => {
  const entries = [
    { server: 'a', name: 'echo' },
    { server: 'b', name: 'echo' },
    { server: 'b', name: 'sum' },
  ];
  assert.deepEqual(assignNames(entries, 'plain'), ['a__echo', 'b__echo', 'sum']);
  assert.deepEqual(assignNames(entries, 'namespaced'), ['a__echo', 'b__echo', 'b__sum']);
});

test('a plain-names profile is transparent for one server and prefixes only the names two servers share', async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { everything: SERVERS.everything, twin: SERVERS.everything, filesystem: SERVERS.filesystem },
    profiles: {
      solo: { mode: 'eager', names: 'plain', allow: ['everything/*'] },
      mixed: { mode: 'eager', names: 'plain', allow: ['everything/echo', 'twin/echo', 'filesystem/read_text_file'] },
    },
    agents: { alice: { profiles: ['solo', 'mixed'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  const gateway = await startServe(temp.configPath);
  try {
    const solo = await httpClient(gateway.url, 'solo', TOKENS.alice);
    const names = (await solo.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('echo') && names.includes('get-sum'), names.join(','));
    assert.equal(text(await solo.callTool({ name: 'echo', arguments: { message: 'plain' } })), 'Echo: plain');
    const { resources } = await solo.listResources();
    assert.ok(resources.every((resource) => resource.uri.startsWith('demo://')), resources.map((r) => r.uri).join(','));
    assert.ok((await solo.readResource({ uri: resources[0]!.uri })).contents.length > 0);
    const { prompts } = await solo.listPrompts();
    assert.ok(prompts.some((prompt) => prompt.name === 'simple-prompt'));
    assert.ok((await solo.getPrompt({ name: 'simple-prompt' })).messages.length > 0);
    await assert.rejects(solo.callTool({ name: 'everything__echo', arguments: { message: 'x' } }), /not available in profile "solo"/);

    const mixed = await httpClient(gateway.url, 'mixed', TOKENS.alice);
    const mixedNames = (await mixed.listTools()).tools.map((tool) => tool.name).sort();
    assert.deepEqual(mixedNames, ['everything__echo', 'read_text_file', 'twin__echo']);
    assert.equal(text(await mixed.callTool({ name: 'twin__echo', arguments: { message: 'twin' } })), 'Echo: twin');
    await assert.rejects(mixed.callTool({ name: 'echo', arguments: { message: 'x' } }), /not available in profile "mixed"/);
    await solo.close();
    await mixed.close();
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});
