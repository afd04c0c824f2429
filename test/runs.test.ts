import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import { runsQuery, SqliteRunsStore } from '../src/adapters/sqlite/runs-store.js';
import type { Run } from '../src/ports/runs-store.js';
import { httpClient, runCli, SERVERS, startServe, tempConfig, TOKENS, waitFor } from './helpers/gatehouse.js';

const config = {
  store: { kind: 'sqlite', path: 'state/gatehouse.db' },
  servers: { everything: { ...SERVERS.everything, tools: { '*': { gate: 'G0' }, 'get-sum': { gate: 'G2' } } } },
  profiles: {
    builder: { mode: 'eager', allow: ['everything/*'], approval: { mode: 'wait', timeoutMs: 300 } },
    narrow: { mode: 'eager', allow: ['everything/echo'] },
  },
  agents: {
    alice: { profiles: ['builder'], tokenEnv: 'TEST_TOKEN_ALICE' },
    bob: { profiles: ['narrow'], tokenEnv: 'TEST_TOKEN_BOB' },
  },
};

test('gatehouse runs: one row per call from its events, with every status, and each filter', async () => {
  const temp = tempConfig(config);
  const runs = (args: string[] = []) => {
    const result = runCli(['runs', '--json', ...args, '--config', temp.configPath]);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as Run[];
  };
  try {
    const gateway = await startServe(temp.configPath);
    try {
      const alice = await httpClient(gateway.url, 'builder', TOKENS.alice);
      const bob = await httpClient(gateway.url, 'narrow', TOKENS.bob);
      for (let i = 0; i < 3; i++) await alice.callTool({ name: 'everything__echo', arguments: { message: `a${i}` } });
      await alice.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2, dry_run: true } });
      await alice.callTool({ name: 'everything__get-sum', arguments: { a: 1, b: 2 } }); // nobody approves: denied after 300 ms
      await alice.callTool({ name: 'everything__echo', arguments: { wrong: 1 } });
      for (let i = 0; i < 2; i++) await bob.callTool({ name: 'everything__echo', arguments: { message: `b${i}` } });

      const long = alice.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 2, steps: 2 } });
      let running: Run[] = [];
      await waitFor(() => (running = runs(['--status', 'running'])).length === 1, 5_000, 'the long call to show as running');
      assert.equal(running[0]!.tool, 'everything__trigger-long-running-operation', 'until the outcome, the row has the name the agent called');
      assert.equal(running[0]!.durationMs, null);
      await long;
      await alice.close();
      await bob.close();
    } finally {
      await gateway.stop();
    }

    const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
    const projected = db.prepare('SELECT last_seq FROM runs_projection').pluck().get();
    assert.equal(projected, db.prepare('SELECT max(seq) FROM events').pluck().get(), 'the gateway brought the runs view up to date as it stopped');
    db.close();

    const all = runs(['--limit', '100']);
    assert.equal(all.length, 9);
    assert.deepEqual(
      all.map((run) => run.startedAt),
      [...all.map((run) => run.startedAt)].sort().reverse(),
      'newest first',
    );
    const byStatus = (status: string) => all.filter((run) => run.status === status);
    assert.equal(byStatus('succeeded').length, 6);
    assert.deepEqual(pick(runs(['--status', 'held'])), [{ agent: 'alice', tool: 'get-sum', gate: 'G2', status: 'held', outcome: 'held', code: 'GH_DRY_RUN' }]);
    assert.deepEqual(pick(runs(['--status', 'denied'])), [{ agent: 'alice', tool: 'get-sum', gate: 'G2', status: 'denied', outcome: 'denied', code: 'GH_APPROVAL_TIMEOUT' }]);
    assert.deepEqual(pick(runs(['--status', 'failed'])), [{ agent: 'alice', tool: 'echo', gate: 'G0', status: 'failed', outcome: 'error', code: 'GH_INVALID_ARGUMENTS' }]);
    assert.deepEqual(runs(['--status', 'running']), []);
    const denied = byStatus('denied')[0]!;
    assert.ok(denied.durationMs! >= 300, `the denied call waited for its approval (${denied.durationMs} ms)`);

    const bobs = runs(['--agent', 'bob']);
    assert.equal(bobs.length, 2);
    assert.ok(bobs.every((run) => run.agent === 'bob' && run.profile === 'narrow' && run.server === 'everything' && run.status === 'succeeded'));
    assert.equal(runs(['--limit', '2']).length, 2);
    assert.equal(runs(['--since', '1h', '--limit', '100']).length, 9);
    assert.deepEqual(runs(['--since', new Date(Date.now() + 60_000).toISOString()]), []);
    assert.equal(runs(['--agent', 'bob', '--status', 'failed']).length, 0);

    // Each run is the pair of events that share its id; its duration is the outcome event's.
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    const outcomes = (await events.read()).filter((event) => ['tool.call.succeeded', 'tool.call.failed', 'tool.call.held', 'policy.denied'].includes(event.type));
    const requested = new Set((await events.read({ type: 'tool.call.requested' })).map((event) => event.payload.runId));
    assert.equal(outcomes.length, 9);
    for (const outcome of outcomes) {
      assert.ok(requested.has(outcome.payload.runId), `run ${String(outcome.payload.runId)} has its requested event`);
      const [run] = runs(['--run', String(outcome.payload.runId)]);
      assert.equal(run?.durationMs, outcome.payload.durationMs);
      assert.equal(run?.startedAt, outcome.at);
    }

    const table = runCli(['runs', '--agent', 'bob', '--config', temp.configPath]);
    assert.match(table.stdout, /^RUN +STARTED +AGENT +PROFILE +TOOL +GATE +STATUS +DURATION +OUTCOME\n[0-9a-f-]{36} +\S+ +bob +narrow +everything\/echo +G0 +succeeded +[\d.]+ ms +ok\n/);
    const bad = runCli(['runs', '--status', 'exploded', '--config', temp.configPath]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /error GH_INVALID_ARGUMENTS: --status must be one of running, succeeded, failed, held, denied/);
    assert.equal(runCli(['runs', '--since', 'yesterday-ish', '--config', temp.configPath]).status, 1);
  } finally {
    temp.cleanup();
  }
});

test('the runs view catches up with events from any writer before it answers, and every filter is answered from an index', async () => {
  const temp = tempConfig(config);
  try {
    const db = openSqlite(path.join(temp.dir, 'state/gatehouse.db'));
    const events = new SqliteEventStore(db);
    const store = new SqliteRunsStore(db);
    const at = '2026-01-01T00:00:00.000Z';
    events.append({ type: 'tool.call.requested', at, agent: 'carol', profile: 'p', tool: 's__t', payload: { runId: 'r-1', via: 'direct' } });
    assert.deepEqual(pick(await store.list({ runId: 'r-1' })), [{ agent: 'carol', tool: 's__t', gate: null, status: 'running', outcome: null, code: null }]);
    events.append({ type: 'tool.call.failed', at, agent: 'carol', profile: 'p', server: 's', tool: 't', payload: { runId: 'r-1', gate: 'G1', durationMs: 12.5, outcome: 'error', code: 'GH_DOWNSTREAM_TIMEOUT' } });
    // A duplicate "requested" (never written by the gateway, but a store must not be confused by it) does not reopen the run.
    events.append({ type: 'tool.call.requested', at, agent: 'carol', profile: 'p', tool: 's__t', payload: { runId: 'r-1' } });
    const [run] = await store.list({ agent: 'carol' });
    assert.deepEqual({ ...run }, { runId: 'r-1', agent: 'carol', profile: 'p', server: 's', tool: 't', gate: 'G1', status: 'failed', outcome: 'error', code: 'GH_DOWNSTREAM_TIMEOUT', startedAt: at, durationMs: 12.5, firstSeq: 1 });

    const plan = (filter: Parameters<typeof runsQuery>[0]) => {
      const { sql, params } = runsQuery(filter);
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join('; ');
    };
    assert.match(plan({ status: 'failed', since: at }), /USING INDEX runs_status_started \(status=\? AND started_at>\?\)/);
    assert.match(plan({ agent: 'carol' }), /USING INDEX runs_agent_started \(agent=\?\)/);
    assert.match(plan({ agent: 'carol', status: 'denied' }), /USING INDEX runs_agent_started \(agent=\?\)/);
    assert.match(plan({ agent: 'carol', status: 'denied', since: at }), /USING INDEX runs_agent_started \(agent=\? AND started_at>\?\)/);
    assert.match(plan({ runId: 'r-1' }), /USING INDEX sqlite_autoindex_runs_1 \(run_id=\?\)/);
    assert.match(plan({ since: at }), /USING INDEX runs_started/);
    for (const filter of [{ status: 'failed' as const, since: at }, { agent: 'carol' }, { agent: 'carol', status: 'held' as const }, {}]) assert.doesNotMatch(plan(filter), /TEMP B-TREE/, 'no sort step');
    db.close();
  } finally {
    temp.cleanup();
  }
});

function pick(runs: Run[]): Array<Pick<Run, 'agent' | 'tool' | 'gate' | 'status' | 'outcome' | 'code'>> {
  return runs.map(({ agent, tool, gate, status, outcome, code }) => ({ agent, tool, gate, status, outcome, code }));
}
