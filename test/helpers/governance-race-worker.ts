// A child process of governance-stores.test.ts: opens the shared database file, waits for the
// agreed start time, then claims every key and consumes every grant it can, and reports which.
import { SqliteApprovalStore } from '../../src/adapters/sqlite/approval-store.js';
import { openSqlite } from '../../src/adapters/sqlite/database.js';
import { SqliteIdempotencyLedger } from '../../src/adapters/sqlite/idempotency-ledger.js';

/** What one racing process won. */
export interface RaceReport {
  tag: string;
  claimed: string[];
  consumed: string[];
}

const [file, tag, keysJson, idsJson] = process.argv.slice(2) as [string, string, string, string];

if (process.send) {
  const db = openSqlite(file);
  const ledger = new SqliteIdempotencyLedger(db);
  const approvals = new SqliteApprovalStore(db);
  process.send('ready');
  process.once('message', async (startAt: number) => {
    // Spinning, not a timer: a timer would add the event loop's jitter to the start.
    while (Date.now() < startAt);
    const now = new Date().toISOString();
    const report: RaceReport = { tag, claimed: [], consumed: [] };
    for (const key of JSON.parse(keysJson) as string[]) {
      if ((await ledger.claim({ agent: 'a', tool: 's/t', key, fingerprint: tag, createdAt: now, expiresAt: '9999-12-31T00:00:00.000Z' })).claimed) report.claimed.push(key);
    }
    for (const id of JSON.parse(idsJson) as string[]) if (await approvals.consume(id, 'h', now)) report.consumed.push(id);
    db.close();
    process.send!(report, () => process.exit(0));
  });
}
