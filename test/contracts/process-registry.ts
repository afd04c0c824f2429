import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatehouseEvent } from '../../src/core/events.js';
import { ownerGoneBy, reconcileInFlight } from '../../src/governance/crash-recovery.js';
import type { IdempotencyLedger } from '../../src/ports/idempotency-ledger.js';
import type { ProcessRegistry } from '../../src/ports/process-registry.js';
import { fixtureTest } from './fixture-test.js';

export interface ProcessRegistryFixture {
  processes: ProcessRegistry;
  ledger: IdempotencyLedger;
  close(): Promise<void>;
}

/** What every ProcessRegistry adapter must do, and what crash recovery across hosts makes of it. */
export function processRegistryContract(name: string, open: () => Promise<ProcessRegistryFixture>): void {
  describe(`process registry contract: ${name}`, () => {
    const it = fixtureTest(open);

    it('a process is live after a beat, silent once its last beat is older than asked, stopped when it says so, and registered again by a beat', async ({ processes }) => {
      assert.equal(await processes.liveness('far:1', 60_000), 'unregistered');
      await processes.beat('far:1');
      assert.equal(await processes.liveness('far:1', 60_000), 'live');
      await sleep(60);
      assert.equal(await processes.liveness('far:1', 20), 'silent');
      assert.equal(await processes.liveness('far:1', 60_000), 'live', 'silence is measured against the window asked about');
      await processes.beat('far:1');
      assert.equal(await processes.liveness('far:1', 5_000), 'live', 'a beat ends a silence');
      await processes.stopped('far:1');
      assert.equal(await processes.liveness('far:1', 60_000), 'stopped');
      await processes.beat('far:1');
      assert.equal(await processes.liveness('far:1', 60_000), 'live', 'a beat after a stop (a pid used again) registers it again');
      assert.equal(await processes.liveness('far:2', 60_000), 'unregistered', 'one process\'s beats say nothing of another');
    });

    it('a gateway start reconciles the keys of another host\'s process that stopped or fell silent, never of one that beats or never registered', async ({ processes, ledger }) => {
      const now = new Date();
      const owners = { beating: 'far-a:1', silent: 'far-b:2', stopped: 'far-c:3', unregistered: 'far-d:4' };
      for (const [key, owner] of Object.entries(owners)) {
        const claimed = await ledger.claim({ agent: 'alice', tool: 'mail/send', key, fingerprint: 'f', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3_600_000).toISOString(), owner });
        assert.equal(claimed.claimed, true);
        await ledger.markStarted('alice', 'mail/send', key, now.toISOString());
      }
      await processes.beat(owners.silent);
      await processes.beat(owners.stopped);
      await processes.stopped(owners.stopped);
      await sleep(300);
      await processes.beat(owners.beating);
      const recorded: Array<Omit<GatehouseEvent, 'at'>> = [];
      const unknown = await reconcileInFlight(ledger, (event) => void recorded.push(event), ownerGoneBy(processes, 200));
      assert.deepEqual(unknown.map((entry) => entry.key).sort(), ['silent', 'stopped']);
      assert.deepEqual(recorded.map((event) => [event.type, event.payload.key]).sort(), [['commit.unknown', 'silent'], ['commit.unknown', 'stopped']]);
      assert.deepEqual((await ledger.list('in_progress')).map((entry) => entry.key).sort(), ['beating', 'unregistered']);
    });
  });
}
