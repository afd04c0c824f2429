import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { CallerRegistry, type DownstreamCaller } from '../src/downstream/caller-registry.js';
import { Subscriptions } from '../src/gateway/subscriptions.js';
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

test('a log line of a shared server has a caller only while every call in flight on it is of one session', () => {
  const registry = new CallerRegistry();
  const caller = (session: string) => ({ session, capabilities: undefined, sendRequest: () => Promise.reject(new Error('not asked')), log: () => undefined }) as unknown as DownstreamCaller;
  assert.equal(registry.soleCaller(), undefined, 'no call in flight');
  const leaveFirst = registry.enter(caller('alice'));
  const leaveSecond = registry.enter(caller('alice'));
  assert.equal(registry.soleCaller()?.session, 'alice', 'two calls of one session');
  const leaveBob = registry.enter(caller('bob'));
  assert.equal(registry.soleCaller(), undefined, 'two sessions: the line is dropped rather than guessed');
  leaveBob();
  assert.equal(registry.soleCaller()?.session, 'alice');
  leaveFirst();
  leaveSecond();
  assert.equal(registry.soleCaller(), undefined);
});

test('the server sees one subscription per URI however many sessions subscribe, and the unsubscribe when the last one leaves', async () => {
  const sent: string[] = [];
  let pins = 0;
  const connection = {
    request: async (request: { method: string; params: { uri: string } }) => {
      sent.push(`${request.method} ${request.params.uri}`);
      return {};
    },
    pin: () => {
      pins += 1;
      return () => void (pins -= 1);
    },
  };
  const subscriptions = new Subscriptions(new Map([['s', connection as never]]));
  const updates: string[] = [];
  const subscriber = (session: string, exposedUri: string) => ({ exposedUri, notify: (uri: string) => void updates.push(`${session} ${uri}`) });
  await subscriptions.subscribe('a', 's', 'file:///x', subscriber('a', 's+file:///x'));
  await subscriptions.subscribe('b', 's', 'file:///x', subscriber('b', 'file:///x'));
  assert.deepEqual(sent, ['resources/subscribe file:///x']);
  assert.equal(pins, 1, 'a server with subscriptions is kept from its idle stop');
  subscriptions.updated('s', 'file:///x');
  assert.deepEqual(updates, ['a s+file:///x', 'b file:///x'], 'each session under the URI it used');
  await subscriptions.unsubscribe('a', 's', 'file:///x');
  assert.deepEqual(sent, ['resources/subscribe file:///x'], 'b is still subscribed');
  await subscriptions.dropSession('b');
  assert.deepEqual(sent, ['resources/subscribe file:///x', 'resources/unsubscribe file:///x']);
  assert.equal(pins, 0, 'no subscription left: the server may stop when idle');
  await subscriptions.subscribe('c', 's', 'file:///x', subscriber('c', 'file:///x'));
  assert.deepEqual(sent.at(-1), 'resources/subscribe file:///x', 'subscribed again downstream');
});

test('two sessions subscribing to one URI at the same moment both get its updates, through one downstream subscription', async () => {
  const sent: string[] = [];
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const connection = {
    request: async (request: { method: string; params: { uri: string } }) => {
      sent.push(`${request.method} ${request.params.uri}`);
      await answered; // the server takes its time to confirm
      return {};
    },
    pin: () => () => undefined,
  };
  const subscriptions = new Subscriptions(new Map([['s', connection as never]]));
  const updates: string[] = [];
  const subscriber = (session: string) => ({ exposedUri: 'file:///x', notify: () => void updates.push(session) });
  const both = Promise.all([subscriptions.subscribe('a', 's', 'file:///x', subscriber('a')), subscriptions.subscribe('b', 's', 'file:///x', subscriber('b'))]);
  answer();
  await both;
  subscriptions.updated('s', 'file:///x');
  assert.deepEqual(updates.sort(), ['a', 'b']);
  assert.deepEqual(sent, ['resources/subscribe file:///x']);
});
