import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { SqliteRunsStore } from '../src/adapters/sqlite/runs-store.js';
import type { GatehouseEvent } from '../src/core/events.js';
import { GATEWAY_PROCESS } from '../src/governance/crash-recovery.js';
import { closeInterruptedRuns } from '../src/governance/interrupted-runs.js';

/** The pid of a process that has exited (and, having been waited for, is gone). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('at start, a run whose gateway process is gone gets a tool.call.failed (GH_GATEWAY_STOPPED); live, remote and unnamed ones stay running', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-interrupted-'));
  const db = openSqlite(path.join(dir, 'gatehouse.db'));
  try {
    const events = new SqliteEventStore(db);
    const runs = new SqliteRunsStore(db);
    const at = '2026-11-25T10:00:00.000Z';
    const requested = (runId: string, gateway?: string): GatehouseEvent => ({
      type: 'tool.call.requested',
      at,
      agent: 'alice',
      profile: 'builder',
      tool: 'mail__send',
      payload: { runId, via: 'direct', ...(gateway ? { gateway } : {}) },
    });
    const dead = `${hostname()}:${deadPid()}`;
    await events.appendBatch([
      requested('killed', dead),
      requested('alive', GATEWAY_PROCESS),
      requested('elsewhere', `some-other-host:${deadPid()}`),
      requested('unnamed'),
      requested('answered', dead),
      { type: 'tool.call.succeeded', at, agent: 'alice', profile: 'builder', server: 'mail', tool: 'send', payload: { runId: 'answered', gate: 'G0', durationMs: 3, outcome: 'ok' } },
    ]);
    const recorded: GatehouseEvent[] = [];
    const closed = await closeInterruptedRuns(runs, events, (event) => recorded.push({ ...event, at: new Date().toISOString() }));
    assert.deepEqual(closed.map((run) => run.runId), ['killed']);
    assert.equal(recorded.length, 1);
    assert.deepEqual({ type: recorded[0]!.type, agent: recorded[0]!.agent, tool: recorded[0]!.tool, runId: recorded[0]!.payload.runId, code: recorded[0]!.payload.code }, {
      type: 'tool.call.failed',
      agent: 'alice',
      tool: 'mail__send',
      runId: 'killed',
      code: 'GH_GATEWAY_STOPPED',
    });
    assert.match(String(recorded[0]!.payload.message), new RegExp(`\\(${dead}\\) stopped before it answered`));

    await events.appendBatch(recorded);
    const byId = Object.fromEntries((await runs.list({ limit: 10 })).map((run) => [run.runId, run.status]));
    assert.deepEqual(byId, { killed: 'failed', alive: 'running', elsewhere: 'running', unnamed: 'running', answered: 'succeeded' });
    assert.deepEqual(await closeInterruptedRuns(runs, events, () => assert.fail('nothing is left to close')), []);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
