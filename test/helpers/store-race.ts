import { fork, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { openStores } from '../../src/app.js';
import type { GatehouseConfig } from '../../src/config/load.js';
import { ChainVerifier } from '../../src/core/event-chain.js';
import type { RaceReport } from './governance-race-worker.js';

/**
 * Four processes on one store race for the same idempotency keys and approved grants, all
 * starting at the same instant, while appending events (one per ten keys): each key must be
 * claimed and each grant consumed exactly once, and the events must form one chain.
 */
export async function raceAcrossProcesses(store: GatehouseConfig['store'], size = { keys: 1000, grants: 200 }): Promise<void> {
  const { stores, close } = await openStores(store);
  try {
    const at = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < size.grants; i++) {
      const { id } = await stores.approvals.create({
        server: 's', tool: 't', exposedName: 's__t', arguments: {}, agent: 'a', profile: 'p', gate: 'G2', reason: 'r',
        bindingHash: 'h', policyVersion: 'v', requestedAt: at, expiresAt: '9999-12-31T00:00:00.000Z',
      });
      await stores.approvals.decide(id, { approved: true, by: 'op', at });
      ids.push(id);
    }
    const keys = Array.from({ length: size.keys }, (_, i) => `k${i}`);

    const worker = fileURLToPath(new URL('./governance-race-worker.js', import.meta.url));
    const children = Array.from({ length: 4 }, (_, i) => fork(worker, [JSON.stringify(store), `p${i}`, JSON.stringify(keys), JSON.stringify(ids)]));
    let results: RaceReport[];
    try {
      // Every process has opened the store, and all start at the same instant (each spins until it),
      // so that they really contend for the same key at the same time.
      await Promise.all(children.map((child) => nextMessage(child)));
      const reports = children.map((child) => nextMessage<RaceReport>(child));
      const startAt = Date.now() + 200;
      for (const child of children) child.send(startAt);
      results = await Promise.all(reports);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
    }

    const claimed = results.flatMap((r) => r.claimed).sort();
    assert.deepEqual(claimed, [...keys].sort(), 'every key claimed exactly once');
    const consumed = results.flatMap((r) => r.consumed).sort();
    assert.deepEqual(consumed, [...ids].sort(), 'every grant consumed exactly once');
    for (const r of results) for (const key of r.claimed) assert.equal((await stores.ledger.get('a', 's/t', key, at))?.fingerprint, r.tag);
    const verifier = new ChainVerifier();
    for await (const event of stores.events.chain()) if (!verifier.next(event)) break;
    const report = verifier.report();
    assert.equal(report.problem, undefined, 'one chain');
    assert.equal(report.checked, (4 * size.keys) / 10, 'every event of every process');
  } finally {
    await close();
  }
}

/** The next message of a child process; rejects when it exits first, so that a crash fails the test. */
function nextMessage<T = unknown>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`race worker exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}
