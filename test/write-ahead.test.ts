import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { descendantsOf, killSurvivors } from '../bench/lib/proc.js';
import { leftJournals, linesAfter } from '../src/adapters/sqlite/event-journal.js';
import { toYaml } from '../src/config/yaml.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { faultNotes, faultServer, readEvents } from './helpers/faults.js';
import { httpClient, isAlive, runCli, startServe, tempConfig, TOKENS, waitFor, type RunningGateway } from './helpers/gatehouse.js';

// A call above G0 may change something downstream: its tool.call.requested is durable (committed,
// or in SQLite's event journal) before it goes there (docs/events.md, "Durability"). Here the server kills the gateway with SIGKILL the
// moment the call reaches it, so nothing after the forward can be written; the store must still
// hold the call's first event, and the next gateway must close its run. Before the write-ahead,
// that event waited up to 100 ms for a batch and was lost with the process: no trace of a write.
test('a G1 call\'s first event is durable before it reaches the server: the gateway killed then leaves its run, closed at the next start', async () => {
  const temp = tempConfig({});
  const { dir, configPath } = temp;
  writeFileSync(
    configPath,
    toYaml({
      store: { kind: 'sqlite', path: 'state/gatehouse.db' },
      servers: { box: faultServer(dir, {}, { tools: { record: { gate: 'G1' }, lookup: { gate: 'G0' } } }) },
      profiles: { ops: { allow: ['box/*'] } },
      agents: { alice: { profiles: ['ops'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    }),
  );
  const dbPath = path.join(dir, 'state/gatehouse.db');
  const clients: Client[] = [];
  let gateway: RunningGateway | undefined = await startServe(configPath);
  try {
    const alice = await httpClient(gateway.url, 'ops', TOKENS.alice);
    clients.push(alice);
    // Starts the server (on first use), so that it can be swept after the gateway is gone.
    await alice.callTool({ name: 'box__lookup', arguments: { id: 'warm-up' } });
    const first = gateway.process.pid!;
    const servers = descendantsOf(first);
    const exited = new Promise<void>((resolve) => gateway!.process.once('exit', () => resolve()));

    await assert.rejects(alice.callTool({ name: 'box__record', arguments: { id: 'wa-1', fault: 'kill_parent' } }, undefined, { timeout: 10_000 }));
    await exited;
    killSurvivors(servers);
    await waitFor(() => servers.every((server) => !isAlive(server.pid)), 5_000, 'the killed gateway\'s server to be gone');
    gateway = undefined;
    assert.equal(faultNotes(dir).filter((note) => note.event === 'executed' && note.id === 'wa-1').length, 1, 'the call reached the server');
    // Durable before it went downstream: committed, or in the killed process's event journal,
    // which the next process to open the store appends (docs/events.md, "The event journal").
    const durable = [...readEvents(dbPath, ['tool.call.requested']), ...journaledEvents(dbPath)].filter(
      (event) => event.type === 'tool.call.requested' && event.tool === 'box__record',
    );
    assert.equal(durable.length, 1, 'the call\'s first event was durable before it went downstream');

    gateway = await startServe(configPath);
    const requested = readEvents(dbPath, ['tool.call.requested']).filter((event) => event.tool === 'box__record');
    assert.equal(requested.length, 1, 'the next gateway has it in the store, once');
    const failed = runCli(['runs', '--json', '--status', 'failed', '--config', configPath]);
    assert.equal(failed.status, 0, failed.stderr);
    const closed = (JSON.parse(failed.stdout) as Array<{ runId: string; tool: string; code: string }>).filter((run) => run.tool === 'box__record');
    assert.deepEqual(closed.map((run) => [run.runId, run.code]), [[requested[0]!.payload.runId, 'GH_GATEWAY_STOPPED']]);
    const outcomes = readEvents(dbPath, ['tool.call.succeeded', 'tool.call.failed']).filter((event) => event.tool === 'box__record' || (event.server === 'box' && event.tool === 'record'));
    assert.deepEqual(outcomes.map((event) => [event.type, event.payload.code]), [['tool.call.failed', 'GH_GATEWAY_STOPPED']], 'no outcome but the one the next gateway wrote');

    // Both gateway processes registered themselves; the killed one never said it stopped, the second one does.
    const second = gateway.process.pid!;
    await gateway.stop();
    gateway = undefined;
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT owner, stopped_at FROM gateway_processes ORDER BY started_at').all() as Array<{ owner: string; stopped_at: string | null }>;
      assert.deepEqual(rows.map((row) => [row.owner.split(':')[1], row.stopped_at === null]), [[String(first), true], [String(second), false]]);
    } finally {
      db.close();
    }
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    await gateway?.stop();
    temp.cleanup();
  }
});

/** The events in the event journals the killed gateway left beside the SQLite store. */
function journaledEvents(dbPath: string): GatehouseEvent[] {
  return leftJournals(dbPath).flatMap((name) => linesAfter(path.join(path.dirname(dbPath), name), 0).map((line) => line.event));
}
