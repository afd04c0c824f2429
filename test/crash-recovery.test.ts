import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { toYaml } from '../src/config/yaml.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { descendantsOf, killSurvivors } from '../bench/lib/proc.js';
import { faultNotes, faultServer, readEvents } from './helpers/faults.js';
import { gatehouseOutcome, httpClient, isAlive, runCli, startServe, tempConfig, text, TOKENS, waitFor, type RunningGateway, type ToolResult } from './helpers/gatehouse.js';

/** SIGKILL to the gateway, then to the downstream servers it started (they would not be told). */
async function killHard(gateway: RunningGateway): Promise<void> {
  const pid = gateway.process.pid!;
  const children = descendantsOf(pid);
  assert.ok(children.length > 0, 'the fault server runs under the gateway');
  const exited = new Promise<void>((resolve) => gateway.process.once('exit', () => resolve()));
  process.kill(pid, 'SIGKILL');
  await exited;
  killSurvivors(children);
  await waitFor(() => children.every((child) => !isAlive(child.pid)), 5_000, 'the killed gateway\'s servers to be gone');
}

test('a gateway SIGKILLed during a G3 commit never sends twice: the commit is unknown until an operator resolves it', async () => {
  const temp = tempConfig({});
  const { dir, configPath } = temp;
  const config = {
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { mail: faultServer(dir, {}, { callTimeoutMs: 120_000, tools: { record: { gate: 'G3' }, lookup: { gate: 'G0' } } }) },
    profiles: { ops: { allow: ['mail/*'], approval: { mode: 'return' } } },
    agents: { alice: { profiles: ['ops'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  };
  writeFileSync(configPath, toYaml(config));
  const cli = (...args: string[]) => runCli([...args, '--config', configPath]);
  const dbPath = path.join(dir, 'state/gatehouse.db');
  const executed = (id: string) => faultNotes(dir).filter((note) => note.event === 'executed' && note.id === id).length;
  const clients: Client[] = [];
  const connect = async (gateway: RunningGateway) => {
    const client = await httpClient(gateway.url, 'ops', TOKENS.alice);
    clients.push(client);
    return client;
  };
  const call = (client: Client, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
    client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }, undefined, { timeout: 120_000 }) as Promise<ToolResult>;
  let gateway = await startServe(configPath);
  try {
    const alice = await connect(gateway);
    const args = { id: 'send-1', fault: 'hang' };
    const preflight = gatehouseOutcome(await call(alice, 'mail__record', args));
    assert.equal(preflight.code, 'GH_CONFIRM_REQUIRED');
    const token = String(preflight.data.confirmToken);
    const key = `preflight:${String(preflight.data.preflight)}`;
    const approved = cli('approvals', 'approve', String(preflight.data.approvalId), '--by', 'carol');
    assert.equal(approved.status, 0, approved.stderr);

    // The send goes downstream and hangs; so does a G0 call with a client key (not sent again either).
    const confirm = { ...args, confirm: 'SEND', confirm_token: token };
    const inFlight = [call(alice, 'mail__record', confirm), call(alice, 'mail__lookup', { id: 'lookup-1', fault: 'hang' }, { 'gatehouse/idempotencyKey': 'lookup-key' })];
    for (const settled of inFlight) settled.catch(() => undefined);
    await waitFor(() => executed('send-1') === 1 && executed('lookup-1') === 1, 10_000, 'both calls to reach the server');
    // The preflight's and the two in-flight calls' first events, which name the gateway process (queued, so waited for).
    await waitFor(() => readEvents(dbPath, ['tool.call.requested']).length === 3, 5_000, 'the calls\' tool.call.requested events');
    const killedPid = gateway.process.pid!;
    await killHard(gateway);
    for (const settled of await Promise.allSettled(inFlight)) assert.equal(settled.status, 'rejected', 'the agent never got an answer');

    gateway = await startServe(configPath);
    const again = await connect(gateway);
    const unknown = gatehouseOutcome(await call(again, 'mail__record', confirm));
    assert.equal(unknown.code, 'GH_OUTCOME_UNKNOWN');
    assert.match(unknown.message, /not sent again/);
    assert.match(unknown.message, new RegExp(`gatehouse commits resolve ${key}`));
    assert.equal(gatehouseOutcome(await call(again, 'mail__lookup', { id: 'lookup-1', fault: 'hang' }, { 'gatehouse/idempotencyKey': 'lookup-key' })).code, 'GH_OUTCOME_UNKNOWN');
    assert.equal(executed('send-1'), 1, 'the send ran exactly once');
    assert.equal(executed('lookup-1'), 1);

    const listed = cli('commits', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const entries = JSON.parse(listed.stdout) as Array<{ key: string; state: string; tool: string; owner: string; startedAt: string }>;
    assert.deepEqual(entries.map((entry) => [entry.key, entry.state, entry.tool]).sort(), [[key, 'unknown', 'mail/record'], ['lookup-key', 'unknown', 'mail/lookup']].sort());
    assert.ok(entries.every((entry) => entry.owner.split(':')[1] === String(killedPid) && entry.startedAt), 'claimed by the killed gateway, after they went downstream');
    assert.match(cli('commits', 'list').stdout, /KEY\s+STATE[\s\S]*unknown/);
    await waitFor(() => readEvents(dbPath, ['commit.unknown']).length === 2, 5_000, 'two commit.unknown events');
    // The runs the killed gateway never answered were closed by the new one: failed, GH_GATEWAY_STOPPED.
    const stoppedRuns = () => (JSON.parse(cli('runs', '--json', '--status', 'failed').stdout) as Array<{ tool: string; code: string }>).filter((run) => run.code === 'GH_GATEWAY_STOPPED');
    await waitFor(() => stoppedRuns().length === 2, 5_000, 'the two interrupted runs to be closed');
    assert.deepEqual(stoppedRuns().map((run) => run.tool).sort(), ['mail__lookup', 'mail__record']);

    // Neither option, or both: refused. Resolved as sent: a repeat replays "sent", never sends.
    assert.equal(cli('commits', 'resolve', key).status, 1);
    const sent = cli('commits', 'resolve', key, '--sent', '--by', 'carol', '--reason', 'the recipient got it');
    assert.equal(sent.status, 0, sent.stderr);
    assert.match(sent.stdout, /resolved as sent by carol: now committed/);
    assert.match(cli('commits', 'resolve', key, '--sent').stderr, /GH_COMMIT_UNKNOWN/, 'resolved once only');
    const replay = await call(again, 'mail__record', confirm);
    assert.equal(replay.isError, undefined, text(replay));
    assert.ok(replay._meta?.['gatehouse/replay']);
    assert.match(text(replay), /confirmed that it was sent \(carol: the recipient got it\)/);
    assert.equal(executed('send-1'), 1);

    // Resolved as not sent: the key is free, and the same call runs (once) again.
    assert.equal(cli('commits', 'resolve', 'lookup-key', '--not-sent', '--by', 'carol').status, 0);
    const rerun = await call(again, 'mail__lookup', { id: 'lookup-1' }, { 'gatehouse/idempotencyKey': 'lookup-key' });
    assert.equal(text(rerun), 'ok lookup-1');
    assert.equal(executed('lookup-1'), 2);
    assert.equal(cli('commits', 'list', '--json').stdout.trim(), '[]');
    await waitFor(() => readEvents(dbPath, ['commit.resolved']).length === 2, 5_000, 'two commit.resolved events');
    const resolutions = readEvents(dbPath, ['commit.resolved']).map((event) => [event.payload.key, event.payload.resolution, event.payload.by]);
    assert.deepEqual(resolutions, [[key, 'sent', 'carol'], ['lookup-key', 'not_sent', 'carol']]);
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    await gateway.stop();
    temp.cleanup();
  }
});
