import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { descendantsOf, killSurvivors } from '../bench/lib/proc.js';
import { readPublicKeyPem } from '../src/adapters/fs/audit-signing-key.js';
import { openStores } from '../src/app.js';
import { verifyStore } from '../src/audit/verify.js';
import type { GatehouseConfig } from '../src/config/load.js';
import { TrustedKeys } from '../src/core/checkpoint.js';
import { httpClient, isAlive, SERVERS, startServe, tempConfig, text, TOKENS, waitFor } from './helpers/gatehouse.js';
import { postgresForThisFile } from './helpers/postgres.js';

// Issue 5 §5: killing the gateway with SIGKILL loses no event of a call whose answer the agent
// received. Several clients call a G0 tool in a loop through a real `gatehouse serve`; the
// gateway is killed mid-stream; then the store must hold, for every answered call, its
// requested and succeeded events, in a chain that verifies (docs/events.md, "Durability").
const postgres = postgresForThisFile();

const CLIENTS = 6;
/** Answers received before the kill: enough that calls are in flight in every client. */
const ANSWERS_BEFORE_KILL = 150;

/** The store as the gateway's config names it, and as this test opens it afterwards. */
interface StoreUnderTest {
  config: Record<string, unknown>;
  open: (dir: string) => GatehouseConfig['store'];
  env?: Record<string, string>;
}

async function killMidStream(store: StoreUnderTest): Promise<void> {
  const temp = tempConfig({
    store: store.config,
    servers: { everything: SERVERS.everything },
    profiles: { builder: { mode: 'eager', allow: ['everything/echo'] } },
    agents: { alice: { profiles: ['builder'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  const gateway = await startServe(temp.configPath, store.env);
  try {
    const clients: Client[] = await Promise.all(Array.from({ length: CLIENTS }, () => httpClient(gateway.url, 'builder', TOKENS.alice)));
    /** Per session: how many calls a client got an answer to (calls in a session are sequential). */
    const answered = new Map<string, number>();
    const loops = clients.map(async (client) => {
      const session = (client.transport as StreamableHTTPClientTransport).sessionId!;
      answered.set(session, 0);
      for (let i = 0; ; i++) {
        let result;
        try {
          result = await client.callTool({ name: 'everything__echo', arguments: { message: `${session} ${i}` } }, undefined, { timeout: 5_000 });
        } catch {
          return; // the gateway is gone: this call's answer never arrived
        }
        assert.equal(text(result), `Echo: ${session} ${i}`);
        answered.set(session, answered.get(session)! + 1);
      }
    });
    const total = () => [...answered.values()].reduce((sum, n) => sum + n, 0);
    await waitFor(() => total() >= ANSWERS_BEFORE_KILL, 30_000, `${ANSWERS_BEFORE_KILL} answers`);
    const children = descendantsOf(gateway.process.pid!);
    assert.ok(children.length >= 1, 'the downstream server runs');
    const exited = new Promise((resolve) => gateway.process.once('exit', resolve));
    gateway.process.kill('SIGKILL');
    await exited;
    await Promise.all(loops);
    // The downstream server lived in a process group of its own: nothing stops it but us.
    killSurvivors(children);
    await waitFor(() => children.every((child) => !isAlive(child.pid)), 5_000, 'the downstream server to be gone');
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));

    const { stores, close } = await openStores(store.open(temp.dir));
    try {
      const events = await stores.events.read();
      const requested = new Set(events.filter((event) => event.type === 'tool.call.requested').map((event) => event.payload.runId));
      for (const [session, count] of answered) {
        const succeeded = events.filter((event) => event.type === 'tool.call.succeeded' && event.payload.session === session);
        assert.ok(succeeded.length >= count, `session ${session}: ${count} answers received, ${succeeded.length} tool.call.succeeded stored`);
        // At most the call in flight at the kill may have committed without its answer arriving.
        assert.ok(succeeded.length <= count + 1, `session ${session}: ${succeeded.length} succeeded for ${count} answers`);
        for (const event of succeeded) assert.ok(requested.has(event.payload.runId), `run ${String(event.payload.runId)} has its tool.call.requested`);
      }
      const publicKey = readPublicKeyPem(path.join(temp.dir, '.gatehouse/audit-signing-key.pem'));
      const report = await verifyStore(stores, new TrustedKeys(publicKey ? [publicKey] : []));
      assert.equal(report.problem, undefined, JSON.stringify(report.problem));
      assert.ok(report.checked >= 2 * total(), `${report.checked} events verified`);
    } finally {
      await close();
    }
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
}

test('SIGKILL mid-stream on SQLite: every answered call has its events, and the chain verifies', async () => {
  await killMidStream({
    config: { kind: 'sqlite', path: 'state/gatehouse.db' },
    open: (dir) => ({ kind: 'sqlite', path: path.join(dir, 'state/gatehouse.db'), durability: 'process' }),
  });
});

test('SIGKILL mid-stream on PostgreSQL: every answered call has its events, and the chain verifies', async () => {
  const url = await postgres.freshDatabase();
  await killMidStream({
    // synchronous_commit=off: a commit the gateway saw is the server's, whatever happens to the gateway.
    config: { kind: 'postgres', url: '${GATEHOUSE_TEST_DATABASE_URL}', durability: 'process' },
    open: () => ({ kind: 'postgres', url, poolSize: 2, durability: 'process' }),
    env: { GATEHOUSE_TEST_DATABASE_URL: url },
  });
});
