// A child process of the store tests: opens the shared store (a SQLite file or a PostgreSQL
// database, as the config's `store` says), waits for the agreed start time, then claims every
// key, consumes every grant and appends events as fast as it can, and reports what it won.
import { openStores } from '../../src/app.js';
import type { GatehouseConfig } from '../../src/config/load.js';

/** What one racing process won. */
export interface RaceReport {
  tag: string;
  claimed: string[];
  consumed: string[];
}

const [storeJson, tag, keysJson, idsJson] = process.argv.slice(2) as [string, string, string, string];

if (process.send) {
  const { stores, close } = await openStores(JSON.parse(storeJson) as GatehouseConfig['store']);
  const { ledger, approvals, events } = stores;
  process.send('ready');
  process.once('message', async (startAt: number) => {
    // Spinning, not a timer: a timer would add the event loop's jitter to the start.
    while (Date.now() < startAt);
    const now = new Date().toISOString();
    const report: RaceReport = { tag, claimed: [], consumed: [] };
    const keys = JSON.parse(keysJson) as string[];
    // Several in flight at once (a PostgreSQL adapter really overlaps them), each key once.
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < keys.length; i += 4) {
          const key = keys[i]!;
          if ((await ledger.claim({ agent: 'a', tool: 's/t', key, fingerprint: tag, createdAt: now, expiresAt: '9999-12-31T00:00:00.000Z' })).claimed) report.claimed.push(key);
          if (i % 10 === 0) await events.append({ type: 'tool.call.succeeded', at: now, agent: tag, payload: { key } });
        }
      }),
    );
    for (const id of JSON.parse(idsJson) as string[]) if (await approvals.consume(id, 'h', now)) report.consumed.push(id);
    await close();
    process.send!(report, () => process.exit(0));
  });
}
