import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTest } from './fixture-test.js';
import { generateKeyPairSync, sign } from 'node:crypto';
import { verifyStore } from '../../src/audit/verify.js';
import { keyIdOf, signCheckpoint, signPrune, TrustedKeys, type AuditSigner } from '../../src/core/checkpoint.js';
import { eventHash, type ChainedEvent } from '../../src/core/event-chain.js';
import type { EventType, GatehouseEvent } from '../../src/core/events.js';
import type { AuditArchive } from '../../src/ports/audit-archive.js';
import type { CheckpointStore } from '../../src/ports/checkpoint-store.js';
import type { EventStore } from '../../src/ports/event-store.js';
import type { Run, RunsStore } from '../../src/ports/runs-store.js';

/** The audit ports of one connection. */
export interface AuditPorts {
  events: EventStore;
  checkpoints: CheckpointStore;
  archive: AuditArchive;
  runs: RunsStore;
}

/** A fresh, empty store; `openSecond` opens another connection to it; `raw` runs SQL on it past the adapters. */
export interface AuditFixture extends AuditPorts {
  openSecond: () => Promise<AuditPorts>;
  /** Runs SQL directly on the database, as an operator with a SQL shell could. */
  raw: (sql: string) => Promise<void>;
  /** Switches off the guard triggers of events, checkpoints and prunes: the attacker owns the database. */
  unguard: () => Promise<void>;
  close(): Promise<void>;
}

function testSigner(): { signer: AuditSigner; keys: TrustedKeys } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { signer: { keyId: keyIdOf(publicKey), publicKeyPem, sign: (message) => sign(null, message, privateKey) }, keys: new TrustedKeys([publicKeyPem]) };
}

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

function plain(n: number, type: EventType = 'session.opened'): GatehouseEvent {
  return { type, at: at(n), agent: 'alice', profile: 'p', payload: { n } };
}

/** A call event of run `runId`: `tool.call.requested` opens it, any other type is its outcome. */
function call(runId: string | undefined, type: EventType, n: number, fields: Partial<GatehouseEvent> = {}, payload: Record<string, unknown> = {}): GatehouseEvent {
  const outcome = type === 'tool.call.requested' ? {} : { gate: 'G0', durationMs: n + 0.5, outcome: type === 'tool.call.succeeded' ? 'ok' : 'error', code: type === 'tool.call.succeeded' ? undefined : 'GH_X' };
  return {
    type,
    at: at(n),
    agent: 'alice',
    profile: 'p',
    ...(type === 'tool.call.requested' ? { tool: 'srv__echo' } : { server: 'srv', tool: 'echo' }),
    ...fields,
    payload: { ...(runId === undefined ? {} : { runId }), via: 'direct', ...outcome, ...payload },
  };
}

const pick = (runs: Run[]) => runs.map(({ runId, status, tool, server, gate }) => ({ runId, status, tool, server, gate }));

/** SQL string literal. */
const literal = (text: string | null): string => (text === null ? 'NULL' : `'${text.replace(/'/g, "''")}'`);

/**
 * What every CheckpointStore, AuditArchive and RunsStore adapter must do: keep signed
 * checkpoints and prune records append-only, hand out ranges of the chain, prune only a prefix
 * that ends at a signed checkpoint (the database refusing anything else), and project one run
 * per call from the call events, however many connections project at once.
 */
export function auditStoresContract(name: string, open: () => Promise<AuditFixture>): void {
  const it = fixtureTest(open);

  describe(`${name}: checkpoint store and audit archive`, () => {
    it('checkpoints: head is the last event; a second checkpoint at one seq is ignored; list and latest in seq order', async ({ events, checkpoints }) => {
      const { signer } = testSigner();
      assert.equal(await checkpoints.head(), undefined);
      assert.deepEqual(await checkpoints.list(), []);
      assert.equal(await checkpoints.latest(), undefined);
      assert.deepEqual(await checkpoints.prunes(), []);
      await events.appendBatch([plain(1), plain(2), plain(3)]);
      const head = (await checkpoints.head())!;
      assert.equal(head.seq, 3);
      const third = signCheckpoint(head, at(10), signer);
      await checkpoints.add(third);
      await checkpoints.add({ ...third, at: at(11), signature: 'another process signed it too' });
      await events.append(plain(4));
      const fourth = signCheckpoint((await checkpoints.head())!, at(12), signer);
      await checkpoints.add(fourth);
      assert.deepEqual(await checkpoints.list(), [third, fourth], 'read back exactly as signed');
      assert.deepEqual(await checkpoints.latest(), fourth);
    });

    it('the database refuses to change or delete a checkpoint or a prune record, and a prune floor that is not a checkpoint', async ({ events, checkpoints, archive, raw }) => {
      const { signer } = testSigner();
      await events.appendBatch([plain(1), plain(2), plain(3)]);
      await checkpoints.add(signCheckpoint({ seq: 1, hash: (await first(archive, 1)).hash! }, at(5), signer));
      await archive.prune(signPrune(1, at(6), signer), 'me');
      await assert.rejects(raw("UPDATE audit_checkpoints SET hash = 'x'"), /append-only/);
      await assert.rejects(raw('DELETE FROM audit_checkpoints'), /append-only/);
      await assert.rejects(raw("UPDATE audit_prunes SET by = 'x'"), /append-only/);
      await assert.rejects(raw('DELETE FROM audit_prunes'), /append-only/);
      await assert.rejects(raw(`INSERT INTO audit_prunes (floor_seq, pruned_at, key_id, signature, deleted, by) VALUES (2, 'x', 'k', 's', 1, 'me')`), /must be the seq of a signed checkpoint/);
      assert.equal((await checkpoints.list()).length, 1);
      assert.equal((await checkpoints.prunes()).length, 1);
    });

    it('archive: events by range, the first event at or after a time, the first still within its retention per type', async ({ events, archive }) => {
      await events.appendBatch([1, 2, 3, 4, 5, 6].map((n) => plain(n * 10, n === 3 ? 'approval.granted' : 'session.opened')));
      const seqs = async (range?: { afterSeq?: number; throughSeq?: number }) => {
        const found: number[] = [];
        for await (const event of archive.events(range)) found.push(event.seq);
        return found;
      };
      assert.deepEqual(await seqs(), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await seqs({ afterSeq: 2, throughSeq: 4 }), [3, 4]);
      assert.deepEqual(await seqs({ afterSeq: 5 }), [6]);
      const [third] = await collect(archive.events({ afterSeq: 2, throughSeq: 3 }));
      assert.deepEqual(
        { type: third!.type, at: third!.at, agent: third!.agent, server: third!.server, payload: third!.payload },
        { type: 'approval.granted', at: at(30), agent: 'alice', server: null, payload: '{"n":30}' },
        'the payload is the stored text the hash covers',
      );
      assert.equal(await archive.firstSeqAtOrAfter(at(25)), 3);
      assert.equal(await archive.firstSeqAtOrAfter(at(30)), 3);
      assert.equal(await archive.firstSeqAtOrAfter(at(61)), undefined);
      assert.deepEqual(await archive.firstRetained({ default: at(45), byType: {} }), { seq: 5, type: 'session.opened', at: at(50) });
      // An approval kept longer (an earlier cutoff) holds back the prefix from its position.
      assert.deepEqual(await archive.firstRetained({ default: at(45), byType: { 'approval.granted': at(0) } }), { seq: 3, type: 'approval.granted', at: at(30) });
      // A type kept shorter is only deleted with the prefix.
      assert.deepEqual(await archive.firstRetained({ default: at(15), byType: { 'session.opened': at(99) } }), { seq: 3, type: 'approval.granted', at: at(30) });
      assert.equal(await archive.firstRetained({ default: at(99), byType: {} }), undefined);
    });

    it('prune deletes the prefix up to a signed checkpoint, with its runs; the rest verifies from there; nothing above the floor can be deleted', async (f) => {
      const { signer, keys } = testSigner();
      await f.events.appendBatch([call('r1', 'tool.call.requested', 1), call('r1', 'tool.call.succeeded', 2), call('r2', 'tool.call.requested', 3)]);
      await f.events.appendBatch([call('r2', 'tool.call.failed', 4), call('r3', 'tool.call.requested', 5), call('r3', 'tool.call.succeeded', 6), plain(7)]);
      await assert.rejects(f.archive.prune(signPrune(3, at(8), signer), 'me'), /must be the seq of a signed checkpoint/);
      assert.equal(await f.events.count(), 7, 'a refused prune deletes nothing');
      // Runs r1 (events 1-2) and r2 (3-4) end at or below the floor; r3 does not.
      await f.checkpoints.add(signCheckpoint({ seq: 4, hash: (await first(f.archive, 4)).hash! }, at(8), signer));
      assert.equal(await f.archive.prune(signPrune(4, at(9), signer), 'auditor'), 4);
      assert.deepEqual((await f.events.read()).map((event) => event.seq), [5, 6, 7]);
      assert.deepEqual((await f.runs.list()).map((run) => run.runId), ['r3'], 'projected before the delete, so no run is left half-made');
      assert.deepEqual((await f.checkpoints.prunes()).map((prune) => prune.floorSeq), [4]);
      const report = await verifyStore(f, keys);
      assert.equal(report.problem, undefined);
      assert.equal(report.prunedThrough, 4);
      assert.equal(report.checked, 3);
      await assert.rejects(f.raw('DELETE FROM events WHERE seq = 5'), /append-only/);
      await assert.rejects(f.raw("UPDATE events SET payload = '{}' WHERE seq = 6"), /append-only/);
      assert.equal(await f.events.count(), 3);
    });

    it('after a prune of every event the numbering goes on from the floor and the next event links to its checkpoint', async (f) => {
      const { signer, keys } = testSigner();
      await f.events.appendBatch([call('r1', 'tool.call.requested', 1), call('r1', 'tool.call.succeeded', 2), plain(3)]);
      const floor = await first(f.archive, 3);
      await f.checkpoints.add(signCheckpoint({ seq: 3, hash: floor.hash! }, at(4), signer));
      assert.equal(await f.archive.prune(signPrune(3, at(5), signer), 'auditor'), 3);
      assert.equal(await f.events.count(), 0);
      const empty = await verifyStore(f, keys);
      assert.equal(empty.problem, undefined, 'no event left is no truncation: the signed prune vouches for everything up to its checkpoint');
      assert.equal(empty.prunedThrough, 3);
      await f.events.append(plain(6));
      await f.events.appendBatch([call('r2', 'tool.call.requested', 7), call('r2', 'tool.call.succeeded', 8)]);
      const after = (await collect(f.archive.events({ afterSeq: 0 }))) as ChainedEvent[];
      assert.deepEqual(after.map((event) => event.seq), [4, 5, 6], 'no number is used twice');
      assert.equal(after[0]!.prevHash, floor.hash, 'the chain goes on from the pruned event, not from the genesis');
      const report = await verifyStore(f, keys);
      assert.equal(report.problem, undefined);
      assert.equal(report.prunedThrough, 3);
      assert.deepEqual((await f.runs.list()).map((run) => run.runId), ['r2'], 'calls after the prune are projected');

      // A second prune of every event: the chain goes on from the higher floor, and verify names it.
      const secondFloor = await first(f.archive, 6);
      await f.checkpoints.add(signCheckpoint({ seq: 6, hash: secondFloor.hash! }, at(9), signer));
      assert.equal(await f.archive.prune(signPrune(6, at(10), signer), 'auditor'), 3);
      await f.events.append(plain(11));
      const [next] = (await collect(f.archive.events())) as ChainedEvent[];
      assert.deepEqual({ seq: next!.seq, prevHash: next!.prevHash }, { seq: 7, prevHash: secondFloor.hash });
      const again = await verifyStore(f, keys);
      assert.equal(again.problem, undefined);
      assert.equal(again.prunedThrough, 6);
      assert.deepEqual((await f.checkpoints.prunes()).map((prune) => prune.floorSeq), [3, 6], 'prunes in floor order');
    });

    it('a call that straddles the prune floor keeps its run, with who and when from its requested event', async (f) => {
      const { signer } = testSigner();
      await f.events.appendBatch([call('r1', 'tool.call.requested', 1, { agent: 'bob' }), plain(2), call('r1', 'tool.call.succeeded', 3)]);
      await f.checkpoints.add(signCheckpoint({ seq: 2, hash: (await first(f.archive, 2)).hash! }, at(4), signer));
      assert.equal(await f.archive.prune(signPrune(2, at(5), signer), 'auditor'), 2);
      const [run, ...others] = await f.runs.list();
      assert.deepEqual(others, []);
      assert.deepEqual(
        { runId: run!.runId, status: run!.status, agent: run!.agent, startedAt: run!.startedAt, firstSeq: run!.firstSeq },
        { runId: 'r1', status: 'succeeded', agent: 'bob', startedAt: at(1), firstSeq: 1 },
      );
    });

    it('archive: events walks a range longer than one page, in order', async ({ events, archive }) => {
      await events.appendBatch(Array.from({ length: 10_005 }, (_, i) => plain(i)));
      const seqs = (await collect(archive.events())).map((event) => event.seq);
      assert.equal(seqs.length, 10_005);
      assert.ok(seqs.every((seq, i) => seq === i + 1), 'every seq once, in order');
      assert.equal((await collect(archive.events({ afterSeq: 5, throughSeq: 10_003 }))).length, 9_998);
    });

    it('verify checks the stored checkpoints: a suffix rewritten with recomputed hashes is found at the next checkpoint, a cut tail at the last', async (f) => {
      const { signer, keys } = testSigner();
      for (let n = 1; n <= 25; n++) {
        await f.events.append(plain(n));
        if (n % 10 === 0) await f.checkpoints.add(signCheckpoint((await f.checkpoints.head())!, at(100 + n), signer));
      }
      assert.equal((await verifyStore(f, keys)).checkpointsMatched, 2);
      await f.unguard();
      // From event 13 on, every hash recomputed: the chain alone is consistent again.
      const suffix = (await collect(f.archive.events({ afterSeq: 12 }))) as ChainedEvent[];
      let prev = suffix[0]!.prevHash!;
      for (const event of suffix) {
        if (event.seq === 13) event.payload = '{"n":"forged"}';
        const hash = eventHash(prev, event);
        await f.raw(`UPDATE events SET payload = ${literal(event.payload)}, prev_hash = ${literal(prev)}, hash = ${literal(hash)} WHERE seq = ${event.seq}`);
        prev = hash;
      }
      const rewritten = await verifyStore(f, keys);
      assert.deepEqual(rewritten.problem && { kind: rewritten.problem.kind, seq: rewritten.problem.seq }, { kind: 'checkpoint-mismatch', seq: 20 });
      await f.raw('DELETE FROM events WHERE seq >= 13');
      await f.raw('DELETE FROM audit_checkpoints WHERE seq > 10');
      await f.checkpoints.add(signCheckpoint({ seq: 25, hash: 'f'.repeat(64) }, at(200), signer));
      const cut = await verifyStore(f, keys);
      assert.deepEqual(cut.problem && { kind: cut.problem.kind, seq: cut.problem.seq }, { kind: 'truncated', seq: 13 });
    });
  });

  describe(`${name}: runs store`, () => {
    it('a call event pair makes one run, whether both are projected at once or apart; a late "requested" never reopens it', async ({ events, runs }) => {
      // r1: both events in one projection; r2: requested projected, then the outcome.
      await events.appendBatch([call('r1', 'tool.call.requested', 1), call('r1', 'tool.call.failed', 2, { agent: 'ignored' }), call('r2', 'tool.call.requested', 3)]);
      assert.deepEqual(pick(await runs.list({ runId: 'r2' })), [{ runId: 'r2', status: 'running', tool: 'srv__echo', server: null, gate: null }]);
      await events.appendBatch([call('r2', 'tool.call.succeeded', 4), call('r1', 'tool.call.requested', 5), call('r2', 'tool.call.requested', 6)]);
      const [r1] = await runs.list({ runId: 'r1' });
      assert.deepEqual({ ...r1 }, {
        runId: 'r1',
        agent: 'alice',
        profile: 'p',
        server: 'srv',
        tool: 'echo',
        gate: 'G0',
        status: 'failed',
        outcome: 'error',
        code: 'GH_X',
        startedAt: at(1),
        durationMs: 2.5,
        firstSeq: 1,
      }, 'who and when from the requested event, the rest from the outcome');
      assert.deepEqual(pick(await runs.list({ runId: 'r2' })), [{ runId: 'r2', status: 'succeeded', tool: 'echo', server: 'srv', gate: 'G0' }]);
      assert.equal((await runs.list({ runId: 'r2' }))[0]!.startedAt, at(3));
    });

    it('every outcome type has its status; a call without a run id is run event-<seq>; a payload with a NUL character projects', async ({ events, runs }) => {
      await events.appendBatch([
        call('a', 'tool.call.succeeded', 1, {}, { text: 'nul \u0000 inside', literal: 'not a nul: \\u0000 \\\u0000' }),
        call('b', 'tool.call.held', 2),
        call('c', 'policy.denied', 3),
        call(undefined, 'tool.call.failed', 4),
        plain(5, 'approval.requested'),
      ]);
      const all = await runs.list();
      assert.deepEqual(all.map((run) => [run.runId, run.status]), [['event-4', 'failed'], ['c', 'denied'], ['b', 'held'], ['a', 'succeeded']]);
    });

    it('filters by agent, status, time and run id, newest first, with a limit; refresh projects at most what it is asked', async ({ events, runs }) => {
      const batch: GatehouseEvent[] = [];
      for (let i = 0; i < 30; i++) {
        const agent = i % 3 === 0 ? 'bob' : 'alice';
        batch.push(call(`run-${i}`, 'tool.call.requested', i, { agent }), call(`run-${i}`, i % 5 === 0 ? 'tool.call.failed' : 'tool.call.succeeded', i, { agent }));
      }
      await events.appendBatch(batch);
      assert.equal(await runs.refresh(7), 7);
      assert.equal(await runs.refresh(), 53);
      assert.equal(await runs.refresh(), 0);
      const ids = (list: Run[]) => list.map((run) => run.runId);
      assert.deepEqual(ids(await runs.list({ limit: 3 })), ['run-29', 'run-28', 'run-27']);
      assert.equal((await runs.list()).length, 30, 'default limit 50');
      assert.deepEqual(ids(await runs.list({ agent: 'bob', status: 'failed' })), ['run-15', 'run-0']);
      assert.deepEqual(ids(await runs.list({ status: 'failed', since: at(10) })), ['run-25', 'run-20', 'run-15', 'run-10']);
      assert.deepEqual(ids(await runs.list({ agent: 'bob', since: at(22), limit: 2 })), ['run-27', 'run-24']);
      assert.deepEqual(ids(await runs.list({ runId: 'run-4' })), ['run-4']);
      assert.deepEqual(await runs.list({ agent: 'nobody' }), []);
      assert.deepEqual(await runs.list({ status: 'running' }), []);
    });

    it('two connections projecting at once, while events are written, make one row per run', async ({ events, runs, openSecond }) => {
      const second = await openSecond();
      const writes = Array.from({ length: 20 }, async (_, w) => {
        for (let i = 0; i < 10; i++) {
          const id = `w${w}-${i}`;
          await (w % 2 ? second.events : events).appendBatch([call(id, 'tool.call.requested', i), call(id, 'tool.call.succeeded', i)]);
          if (i % 3 === 0) await (w % 2 ? second.runs : runs).refresh();
        }
      });
      await Promise.all(writes);
      await Promise.all([runs.refresh(), second.runs.refresh(), runs.refresh()]);
      const all = await second.runs.list({ limit: 1000 });
      assert.equal(all.length, 200);
      assert.equal(new Set(all.map((run) => run.runId)).size, 200);
      assert.ok(all.every((run) => run.status === 'succeeded'));
    });
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) found.push(item);
  return found;
}

async function first(archive: AuditArchive, seq: number): Promise<ChainedEvent> {
  const [event] = await collect(archive.events({ afterSeq: seq - 1, throughSeq: seq }));
  return event!;
}
