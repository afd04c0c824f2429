import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { httpClient, REPO, SERVERS, startServe, tempConfig, text, TOKENS, UNGATED, waitFor } from './helpers/gatehouse.js';

const FIXTURE = { domain: 'builder', command: process.execPath, args: [path.join(REPO, 'dist/test/fixtures/conformance-server.js'), '--stdio'], tools: UNGATED };

function gatewayConfig() {
  return tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { fixture: FIXTURE },
    profiles: {
      one: { mode: 'eager', allow: ['fixture/*'] },
      other: { mode: 'eager', allow: ['fixture/test_simple_text'] },
    },
    agents: {
      alice: { profiles: ['one'], tokenEnv: 'TEST_TOKEN_ALICE' },
      bob: { profiles: ['other'], tokenEnv: 'TEST_TOKEN_BOB' },
    },
  });
}

test("a server's log lines reach the agent whose call caused them, and no other agent", async () => {
  const temp = gatewayConfig();
  const gateway = await startServe(temp.configPath);
  try {
    const alice = await httpClient(gateway.url, 'one', TOKENS.alice);
    const bob = await httpClient(gateway.url, 'other', TOKENS.bob);
    const aliceLogs: string[] = [];
    const bobLogs: string[] = [];
    alice.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void aliceLogs.push(String(n.params.data)));
    bob.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void bobLogs.push(String(n.params.data)));
    await bob.callTool({ name: 'fixture__test_simple_text', arguments: {} }); // bob uses the same shared server
    const result = await alice.callTool({ name: 'fixture__test_tool_with_logging', arguments: {} });
    assert.match(text(result), /3 messages/);
    await waitFor(() => aliceLogs.length === 3, 5_000, "alice's three log lines");
    assert.deepEqual(aliceLogs, ['Tool execution started', 'Tool processing data', 'Tool execution completed']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(bobLogs, [], "another agent never sees alice's log lines");

    await alice.setLoggingLevel('error');
    await alice.callTool({ name: 'fixture__test_tool_with_logging', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(aliceLogs.length, 3, 'logging/setLevel filters what the session receives');
    await alice.close();
    await bob.close();
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});

test('resource updates reach only the sessions that subscribed, under the URI they used', async () => {
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { everything: SERVERS.everything },
    profiles: {
      one: { mode: 'eager', allow: ['everything/*'] },
      other: { mode: 'eager', allow: ['everything/echo'] },
    },
    agents: {
      alice: { profiles: ['one'], tokenEnv: 'TEST_TOKEN_ALICE' },
      bob: { profiles: ['other'], tokenEnv: 'TEST_TOKEN_BOB' },
    },
  });
  const gateway = await startServe(temp.configPath);
  try {
    const alice = await httpClient(gateway.url, 'one', TOKENS.alice);
    const bob = await httpClient(gateway.url, 'other', TOKENS.bob);
    const { resources } = await alice.listResources();
    const uri = resources[0]!.uri;
    assert.match(uri, /^everything\+/);
    await assert.rejects(bob.subscribeResource({ uri }), /not available in profile "other"/);
    const aliceUpdates: string[] = [];
    const bobUpdates: string[] = [];
    alice.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void aliceUpdates.push(n.params.uri));
    bob.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void bobUpdates.push(n.params.uri));
    await alice.subscribeResource({ uri });
    // server-everything then sends an update for each subscribed URI every 5 s.
    await alice.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    await waitFor(() => aliceUpdates.length > 0, 12_000, 'a resource update');
    assert.equal(aliceUpdates[0], uri, 'the update names the URI as the agent subscribed to it');
    assert.deepEqual(bobUpdates, []);
    await alice.unsubscribeResource({ uri });
    await alice.close();
    await bob.close();
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});
