import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PostgresDatabase } from '../src/adapters/postgres/database.js';
import { PostgresEventStore } from '../src/adapters/postgres/event-store.js';
import type { Run } from '../src/ports/runs-store.js';
import { httpClient, runCli, SERVERS, startServe, tempConfig, TOKENS } from './helpers/gatehouse.js';
import { postgresForThisFile } from './helpers/postgres.js';

// The audit and runs commands against a real `gatehouse serve` on PostgreSQL: what used to answer
// GH_STORE_FEATURE_MISSING there. The ports themselves are covered by test/contracts/audit-stores.ts.
const postgres = postgresForThisFile();

const DAY_MS = 86_400_000;
const OLD_EVENTS = 20;

test('on PostgreSQL: gatehouse runs, audit checkpoint, export, prune and verify (checkpoints included) work on what a gateway wrote', async () => {
  const url = await postgres.freshDatabase();
  const env = { GATEHOUSE_TEST_DATABASE_URL: url };
  const temp = tempConfig({
    store: { kind: 'postgres', url: '${GATEHOUSE_TEST_DATABASE_URL}' },
    servers: { everything: SERVERS.everything },
    profiles: { builder: { mode: 'eager', allow: ['everything/echo'] } },
    agents: { alice: { profiles: ['builder'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    audit: { retention: { defaultDays: 365 } },
  });
  const cli = (...args: string[]) => runCli([...args, '--config', temp.configPath], env);
  try {
    // Nine-year-old events first, past their retention: what prune will delete.
    const db = await PostgresDatabase.open(url);
    const old = (n: number) => new Date(Date.now() - 9 * 365 * DAY_MS + n * 1000).toISOString();
    await new PostgresEventStore(db).appendBatch(Array.from({ length: OLD_EVENTS }, (_, i) => ({ type: 'session.opened' as const, at: old(i), payload: { n: i } })));

    const gateway = await startServe(temp.configPath, env);
    try {
      const alice = await httpClient(gateway.url, 'builder', TOKENS.alice);
      for (let i = 0; i < 3; i++) await alice.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
      await alice.callTool({ name: 'everything__echo', arguments: { wrong: 1 } });
      await alice.close();
    } finally {
      await gateway.stop();
    }

    const runs = cli('runs', '--json');
    assert.equal(runs.status, 0, runs.stderr);
    const rows = JSON.parse(runs.stdout) as Run[];
    assert.deepEqual(rows.map((run) => [run.agent, run.tool, run.status]), [['alice', 'echo', 'failed'], ['alice', 'echo', 'succeeded'], ['alice', 'echo', 'succeeded'], ['alice', 'echo', 'succeeded']]);
    assert.match(cli('runs', '--status', 'failed').stdout, /alice +builder +everything\/echo +G0 +failed .* error GH_INVALID_ARGUMENTS/);

    const verified = cli('audit', 'verify');
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /audit chain OK: \d+ events, .*1 signed checkpoints matched/, 'the checkpoint the gateway signed at shutdown');

    const kept = cli('audit', 'checkpoint');
    assert.equal(kept.status, 0, kept.stderr);
    const keptFile = path.join(temp.dir, 'kept.json');
    writeFileSync(keptFile, kept.stdout);
    const head = JSON.parse(kept.stdout) as { seq: number };

    const exported = cli('audit', 'export');
    assert.equal(exported.status, 0, exported.stderr);
    const exportFile = path.join(temp.dir, 'export.jsonl');
    writeFileSync(exportFile, exported.stdout);
    const fromExport = runCli(['audit', 'verify', '--export', exportFile]);
    assert.equal(fromExport.status, 0, fromExport.stdout);
    assert.match(fromExport.stdout, new RegExp(`audit chain OK: ${head.seq} events, last ${head.seq} `));

    const pruned = cli('audit', 'prune', '--by', 'auditor');
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, new RegExp(`deleted ${OLD_EVENTS} events through ${OLD_EVENTS}; the chain now starts after the signed checkpoint at ${OLD_EVENTS}`));
    const afterPrune = cli('audit', 'verify', '--checkpoint', keptFile);
    assert.equal(afterPrune.status, 0, afterPrune.stdout);
    assert.match(afterPrune.stdout, new RegExp(`starts after the signed prune at ${OLD_EVENTS}`));

    // Someone with SQL access cuts the tail, checkpoints included: the checkpoint kept elsewhere
    // catches it (the chain alone, which is all verify checked here before, cannot).
    await db.query('ALTER TABLE events DISABLE TRIGGER USER; ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await db.query(`DELETE FROM events WHERE seq > ${head.seq - 3}; DELETE FROM audit_checkpoints WHERE seq > ${head.seq - 3}`);
    assert.equal(cli('audit', 'verify').status, 0, 'the store alone looks whole');
    const cut = cli('audit', 'verify', '--checkpoint', keptFile);
    assert.equal(cut.status, 1);
    assert.match(cut.stdout, new RegExp(`BROKEN at event ${head.seq - 2}: events from here on are missing: a signed checkpoint \\(file .*kept\\.json\\) vouches for the chain up to event ${head.seq}`));
    await db.close();
  } finally {
    temp.cleanup();
  }
});
