import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTest } from './fixture-test.js';
import { ChainVerifier, GENESIS_HASH, type ChainReport } from '../../src/core/event-chain.js';
import type { GatehouseEvent } from '../../src/core/events.js';
import type { EventStore } from '../../src/ports/event-store.js';

/** A fresh, empty event store; `openSecond` opens another connection to it; `raw` runs SQL on it past the adapter. */
export interface EventStoreFixture {
  events: EventStore;
  openSecond: () => Promise<EventStore>;
  /** Runs one SQL statement directly on the database, as an operator with a SQL shell could. */
  raw: (sql: string) => Promise<void>;
  close(): Promise<void>;
}

const event = (n: number, overrides: Partial<GatehouseEvent> = {}): GatehouseEvent => ({
  type: 'tool.call.succeeded',
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  agent: 'alice',
  profile: 'p',
  server: 's',
  tool: 't',
  payload: { n, nested: { list: [1, 'two', null], text: 'é ✓ \u0000 "quoted"' } },
  ...overrides,
});

async function verify(events: EventStore): Promise<ChainReport> {
  const verifier = new ChainVerifier();
  for await (const chained of events.chain()) if (!verifier.next(chained)) break;
  return verifier.report();
}

/**
 * What every EventStore adapter must do: append in order (alone or as one batch), read back
 * exactly what was appended, count, hand out one hash chain that verifies however many
 * connections wrote to it, and refuse to change or delete an event even when asked in SQL.
 */
export function eventStoreContract(name: string, open: () => Promise<EventStoreFixture>): void {
  const it = fixtureTest(open);

  describe(`${name}: event store`, () => {
    it('append and appendBatch keep order; read returns each event as appended, with seq from 1', async ({ events }) => {
      assert.deepEqual(await events.read(), []);
      assert.equal(await events.count(), 0);
      await events.append(event(1));
      await events.appendBatch([event(2, { type: 'approval.requested', agent: undefined }), event(3), event(4, { server: undefined, tool: undefined })]);
      await events.appendBatch([]);
      await events.append(event(5, { type: 'approval.requested' }));
      const read = await events.read();
      assert.deepEqual(read.map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(read[0], { ...event(1), seq: 1 });
      assert.deepEqual(read[1], { ...event(2, { type: 'approval.requested' }), agent: undefined, seq: 2 }, 'an absent field reads back absent');
      assert.equal(read[3]!.server, undefined);
      assert.deepEqual(read[4]!.payload, event(5).payload, 'the payload survives the round trip byte for byte');
    });

    it('read filters by afterSeq, type and limit; count by type', async ({ events }) => {
      await events.appendBatch([1, 2, 3, 4, 5, 6].map((n) => event(n, { type: n % 2 === 0 ? 'approval.granted' : 'tool.call.failed' })));
      assert.deepEqual((await events.read({ afterSeq: 4 })).map((e) => e.seq), [5, 6]);
      assert.deepEqual((await events.read({ type: 'approval.granted' })).map((e) => e.seq), [2, 4, 6]);
      assert.deepEqual((await events.read({ type: 'approval.granted', afterSeq: 2, limit: 1 })).map((e) => e.seq), [4]);
      assert.deepEqual((await events.read({ limit: 2 })).map((e) => e.seq), [1, 2]);
      assert.equal(await events.count(), 6);
      assert.equal(await events.count('tool.call.failed'), 3);
      assert.equal(await events.count('session.opened'), 0);
    });

    it('chain links every event to the one before it from the genesis hash, and verifies', async ({ events }) => {
      for (let n = 1; n <= 30; n += 3) await events.appendBatch([event(n), event(n + 1), event(n + 2)]);
      const chained = [];
      for await (const link of events.chain()) chained.push(link);
      assert.equal(chained.length, 30);
      assert.equal(chained[0]!.prevHash, GENESIS_HASH);
      for (let i = 1; i < chained.length; i++) assert.equal(chained[i]!.prevHash, chained[i - 1]!.hash);
      const report = await verify(events);
      assert.equal(report.problem, undefined);
      assert.equal(report.checked, 30);
      assert.equal(report.lastSeq, 30);
    });

    it('chain walks more events than one page holds', async ({ events }) => {
      const batch = Array.from({ length: 500 }, (_, i) => event(i));
      for (let i = 0; i < 5; i++) await events.appendBatch(batch);
      const report = await verify(events);
      assert.equal(report.problem, undefined);
      assert.equal(report.checked, 2500);
    });

    it('the database refuses to update or delete an event, whoever asks', async ({ events, raw }) => {
      await events.appendBatch([event(1), event(2)]);
      await assert.rejects(raw("UPDATE events SET payload = '{}' WHERE seq = 1"), /append-only/);
      await assert.rejects(raw('DELETE FROM events WHERE seq = 2'), /append-only/);
      await assert.rejects(raw('DELETE FROM events'), /append-only/);
      assert.equal(await events.count(), 2);
      assert.equal((await verify(events)).problem, undefined);
    });

    it('two connections appending at once extend one chain', async ({ events, openSecond }) => {
      const second = await openSecond();
      const writes = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? events : second).appendBatch([event(i, { agent: `w${i % 2}` }), event(i, { agent: `w${i % 2}` })]));
      await Promise.all(writes);
      assert.equal(await second.count(), 80);
      const report = await verify(second);
      assert.equal(report.problem, undefined);
      assert.equal(report.checked, 80);
    });
  });
}
