import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTest } from './fixture-test.js';
import type { ApprovalStore, NewApproval } from '../../src/ports/approval-store.js';
import type { IdempotencyLedger, IdempotencyRecord } from '../../src/ports/idempotency-ledger.js';
import type { NewReviewItem, ReviewStore } from '../../src/ports/review-store.js';
import type { PinStore } from '../../src/ports/pin-store.js';

/** The four governance stores of one connection. */
export interface GovernanceStores {
  approvals: ApprovalStore;
  ledger: IdempotencyLedger;
  reviews: ReviewStore;
  pins: PinStore;
}

/** A fresh, empty store set; `openSecond` opens another connection to the same data. */
export interface GovernanceFixture extends GovernanceStores {
  openSecond?: () => GovernanceStores | Promise<GovernanceStores>;
  /** Closes every connection opened for this fixture (including those of openSecond). */
  close(): Promise<void>;
}

// Fixed times, so that every expiry boundary is exact. Seconds after a fixed UTC instant.
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function newApproval(overrides: Partial<NewApproval> = {}): NewApproval {
  return {
    server: 'crm',
    tool: 'update_contact',
    exposedName: 'crm__update_contact',
    arguments: { id: 7, fields: { email: 'a@example.com', tags: ['x', 'y'] }, note: null },
    agent: 'alice',
    profile: 'sales',
    gate: 'G2',
    reason: 'gate G2 (config servers.crm.tools.update_*)',
    bindingHash: 'hash-1',
    policyVersion: 'pv-1',
    requestedAt: at(0),
    expiresAt: at(300),
    ...overrides,
  };
}

function newReview(overrides: Partial<NewReviewItem> = {}): NewReviewItem {
  return {
    at: at(0),
    agent: 'alice',
    profile: 'sales',
    server: 'crm',
    tool: 'add_note',
    arguments: { text: 'hello', n: [1, 2] },
    outcome: 'ok',
    summary: 'note added',
    ...overrides,
  };
}

function claimOf(key: string, fingerprint: string, createdAt = at(0), expiresAt = at(60)): Omit<IdempotencyRecord, 'state' | 'result'> {
  return { agent: 'alice', tool: 'crm/update_contact', key, fingerprint, createdAt, expiresAt };
}

/**
 * The behaviour every ApprovalStore, IdempotencyLedger, ReviewStore and PinStore adapter must
 * have. Only the ports are used here, and every call is awaited, so that an adapter whose
 * verbs return promises (PostgreSQL) can run the same suite. `open` must return empty stores.
 */
export function governanceStoreContract(name: string, open: () => Promise<GovernanceFixture>): void {
  const it = fixtureTest(open);

  /** One test that races two connections; skipped for an adapter that cannot open a second one. */
  const race = (title: string, body: (first: GovernanceStores, second: GovernanceStores) => Promise<void>): void => {
    test(title, async (t) => {
      const stores = await open();
      try {
        if (!stores.openSecond) return t.skip('no second connection');
        await body(stores, await stores.openSecond());
      } finally {
        await stores.close();
      }
    });
  };

  describe(`${name}: approval store`, () => {
    it('create stores a pending request with an apr_ id that get returns unchanged', async ({ approvals }) => {
      const input = newApproval();
      const created = await approvals.create(input);
      assert.match(created.id, /^apr_[0-9a-z]{16}$/);
      assert.deepEqual(created, { ...input, id: created.id, status: 'pending' });
      assert.deepEqual(await approvals.get(created.id), created);
      const other = await approvals.create(newApproval());
      assert.notEqual(other.id, created.id);
      assert.equal(await approvals.get('apr_doesnotexist0000'), undefined);
    });

    it('decide approves a pending request once; the second decision returns undefined and changes nothing', async ({ approvals }) => {
      const { id } = await approvals.create(newApproval());
      const decided = await approvals.decide(id, { approved: true, by: 'bob', reason: 'looks fine', at: at(10), grantExpiresAt: at(70) });
      assert.ok(decided);
      assert.equal(decided.status, 'approved');
      assert.equal(decided.decidedAt, at(10));
      assert.equal(decided.decidedBy, 'bob');
      assert.equal(decided.decisionReason, 'looks fine');
      assert.equal(decided.grantExpiresAt, at(70));
      assert.equal(decided.consumedAt, undefined);
      assert.deepEqual(await approvals.get(id), decided);

      assert.equal(await approvals.decide(id, { approved: false, by: 'carol', at: at(11) }), undefined);
      assert.deepEqual(await approvals.get(id), decided);
    });

    it('decide rejects; a rejection carries no grant and cannot be consumed', async ({ approvals }) => {
      const { id } = await approvals.create(newApproval());
      const decided = await approvals.decide(id, { approved: false, by: 'bob', at: at(10), grantExpiresAt: at(70) });
      assert.ok(decided);
      assert.equal(decided.status, 'rejected');
      assert.equal(decided.decidedBy, 'bob');
      assert.equal(decided.decisionReason, undefined);
      assert.equal(decided.grantExpiresAt, undefined);
      assert.equal(await approvals.consume(id, 'hash-1', at(20)), false);
      assert.equal((await approvals.get(id))?.status, 'rejected');
      assert.equal(await approvals.decide(id, { approved: true, by: 'bob', at: at(12) }), undefined);
    });

    it('decide is refused at and after expiresAt, and just before it is accepted', async ({ approvals }) => {
      const late = await approvals.create(newApproval({ expiresAt: at(300) }));
      assert.equal(await approvals.decide(late.id, { approved: true, by: 'bob', at: at(300) }), undefined);
      assert.equal(await approvals.decide(late.id, { approved: true, by: 'bob', at: at(400) }), undefined);
      assert.deepEqual(await approvals.get(late.id), late, 'a refused decision leaves the request as it was');

      const inTime = await approvals.create(newApproval({ expiresAt: at(300) }));
      assert.equal((await approvals.decide(inTime.id, { approved: true, by: 'bob', at: at(299.999) }))?.status, 'approved');
      assert.equal(await approvals.decide('apr_doesnotexist0000', { approved: true, by: 'bob', at: at(1) }), undefined);
    });

    it('consume needs an approval, the same binding hash and an unexpired grant, and succeeds once', async ({ approvals }) => {
      const { id } = await approvals.create(newApproval({ bindingHash: 'hash-A' }));
      assert.equal(await approvals.consume(id, 'hash-A', at(5)), false, 'not approved yet');
      await approvals.decide(id, { approved: true, by: 'bob', at: at(10), grantExpiresAt: at(70) });
      assert.equal(await approvals.consume(id, 'hash-B', at(20)), false, 'other arguments');
      assert.equal((await approvals.get(id))?.status, 'approved', 'a wrong hash does not burn the grant');
      assert.equal(await approvals.consume(id, 'hash-A', at(20)), true);
      const consumed = await approvals.get(id);
      assert.equal(consumed?.status, 'consumed');
      assert.equal(consumed?.consumedAt, at(20));
      assert.equal(await approvals.consume(id, 'hash-A', at(21)), false, 'single use');
      assert.equal((await approvals.get(id))?.consumedAt, at(20));
      assert.equal(await approvals.consume('apr_doesnotexist0000', 'hash-A', at(21)), false);
    });

    it('consume is refused at and after grantExpiresAt; the grant stays approved and unusable', async ({ approvals }) => {
      const { id } = await approvals.create(newApproval());
      await approvals.decide(id, { approved: true, by: 'bob', at: at(10), grantExpiresAt: at(70) });
      assert.equal(await approvals.consume(id, 'hash-1', at(70)), false);
      assert.equal(await approvals.consume(id, 'hash-1', at(71)), false);
      assert.equal((await approvals.get(id))?.status, 'approved');

      const open = await approvals.create(newApproval());
      await approvals.decide(open.id, { approved: true, by: 'bob', at: at(10), grantExpiresAt: at(70) });
      assert.equal(await approvals.consume(open.id, 'hash-1', at(69.999)), true, 'just before the grant expires');

      const noExpiry = await approvals.create(newApproval());
      await approvals.decide(noExpiry.id, { approved: true, by: 'bob', at: at(10) });
      assert.equal((await approvals.get(noExpiry.id))?.grantExpiresAt, undefined);
      assert.equal(await approvals.consume(noExpiry.id, 'hash-1', at(100_000)), true, 'a grant without expiry never expires');
    });

    it('expire and decide race: whichever comes first wins and the other is refused', async ({ approvals }) => {
      const first = await approvals.create(newApproval());
      assert.equal(await approvals.expire(first.id, at(300)), true);
      const expired = await approvals.get(first.id);
      assert.equal(expired?.status, 'expired');
      assert.equal(expired?.decidedAt, at(300), 'decidedAt records when the request left pending');
      assert.equal(expired?.decidedBy, undefined);
      assert.equal(await approvals.decide(first.id, { approved: true, by: 'bob', at: at(100) }), undefined, 'even with an earlier decision time');
      assert.equal(await approvals.expire(first.id, at(301)), false);
      assert.equal(await approvals.consume(first.id, 'hash-1', at(302)), false);
      assert.equal((await approvals.get(first.id))?.status, 'expired');

      const second = await approvals.create(newApproval());
      await approvals.decide(second.id, { approved: true, by: 'bob', at: at(100) });
      assert.equal(await approvals.expire(second.id, at(300)), false, 'decided meanwhile');
      assert.equal((await approvals.get(second.id))?.status, 'approved');
      assert.equal((await approvals.get(second.id))?.decidedAt, at(100));

      const third = await approvals.create(newApproval());
      await approvals.decide(third.id, { approved: false, by: 'bob', at: at(100) });
      assert.equal(await approvals.expire(third.id, at(300)), false);
      assert.equal((await approvals.get(third.id))?.status, 'rejected');
      assert.equal(await approvals.expire('apr_doesnotexist0000', at(300)), false);
    });

    it('list returns newest first by requestedAt, filtered by status and limited', async ({ approvals }) => {
      // Inserted out of time order, so that only ordering by requestedAt passes.
      const b = await approvals.create(newApproval({ requestedAt: at(20) }));
      const a = await approvals.create(newApproval({ requestedAt: at(10) }));
      const d = await approvals.create(newApproval({ requestedAt: at(40) }));
      const c = await approvals.create(newApproval({ requestedAt: at(30) }));
      await approvals.decide(b.id, { approved: true, by: 'bob', at: at(50) });
      await approvals.decide(d.id, { approved: true, by: 'bob', at: at(50) });
      await approvals.expire(c.id, at(60));

      const ids = async (filter?: Parameters<ApprovalStore['list']>[0]) => (await approvals.list(filter)).map((r) => r.id);
      assert.deepEqual(await ids(), [d.id, c.id, b.id, a.id]);
      assert.deepEqual(await ids({ status: 'approved' }), [d.id, b.id]);
      assert.deepEqual(await ids({ status: 'pending' }), [a.id]);
      assert.deepEqual(await ids({ status: 'expired' }), [c.id]);
      assert.deepEqual(await ids({ status: 'consumed' }), []);
      assert.deepEqual(await ids({ limit: 2 }), [d.id, c.id]);
      assert.deepEqual(await ids({ status: 'approved', limit: 1 }), [d.id]);
      assert.deepEqual((await approvals.list({ status: 'approved' }))[0], await approvals.get(d.id), 'list returns whole records');
    });

    it('requests made in the same millisecond are listed later insert first', async ({ approvals }) => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await approvals.create(newApproval())).id);
      const newestFirst = made.reverse();
      assert.deepEqual((await approvals.list()).map((r) => r.id), newestFirst);
      assert.deepEqual((await approvals.list({ status: 'pending', limit: 2 })).map((r) => r.id), newestFirst.slice(0, 2));
    });
  });

  describe(`${name}: idempotency ledger`, () => {
    it('claim starts an in_progress record; a duplicate claim returns it instead', async ({ ledger }) => {
      assert.equal(await ledger.get('alice', 'crm/update_contact', 'k1', at(0)), undefined);
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-1')), { claimed: true });
      const record = { ...claimOf('k1', 'fp-1'), state: 'in_progress' };
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(1)), record);
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-2', at(5), at(65))), { claimed: false, existing: record });
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(6)), record, 'the losing claim changed nothing');
    });

    it('keys are scoped by agent and tool', async ({ ledger }) => {
      assert.equal((await ledger.claim(claimOf('k1', 'fp-1'))).claimed, true);
      assert.equal((await ledger.claim({ ...claimOf('k1', 'fp-1'), agent: 'bob' })).claimed, true);
      assert.equal((await ledger.claim({ ...claimOf('k1', 'fp-1'), tool: 'crm/delete_contact' })).claimed, true);
      assert.equal((await ledger.claim(claimOf('k2', 'fp-1'))).claimed, true);
      assert.equal((await ledger.claim({ ...claimOf('k1', 'fp-1'), agent: 'bob' })).claimed, false);
    });

    it('complete commits the result; a later claim returns the committed record with it', async ({ ledger }) => {
      await ledger.claim(claimOf('k1', 'fp-1'));
      const result = { content: [{ type: 'text', text: 'done' }], structuredContent: { n: 1, ok: true, nested: [null] } };
      await ledger.complete('alice', 'crm/update_contact', 'k1', 'committed', result);
      const committed = { ...claimOf('k1', 'fp-1'), state: 'committed', result };
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(10)), committed);
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-1', at(10), at(70))), { claimed: false, existing: committed });

      await ledger.complete('alice', 'crm/update_contact', 'k1', 'failed');
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(10)), committed, 'only an in_progress record completes');
    });

    it('a failed record is replaced by the next claim', async ({ ledger }) => {
      await ledger.claim(claimOf('k1', 'fp-1'));
      await ledger.complete('alice', 'crm/update_contact', 'k1', 'failed');
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'k1', at(1)))?.state, 'failed');
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-2', at(5), at(65))), { claimed: true });
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(6)), { ...claimOf('k1', 'fp-2', at(5), at(65)), state: 'in_progress' });
      assert.equal((await ledger.claim(claimOf('k1', 'fp-3', at(7), at(67)))).claimed, false, 'the replacement is live again');
    });

    it('an expired record is replaced from its expiresAt on, not before', async ({ ledger }) => {
      await ledger.claim(claimOf('k1', 'fp-1', at(0), at(60)));
      await ledger.complete('alice', 'crm/update_contact', 'k1', 'committed', { ok: 1 });
      const early = await ledger.claim(claimOf('k1', 'fp-2', at(59.999), at(120)));
      assert.equal(early.claimed, false);
      assert.equal(!early.claimed && early.existing.fingerprint, 'fp-1');
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-2', at(60), at(120))), { claimed: true });
      assert.deepEqual(await ledger.get('alice', 'crm/update_contact', 'k1', at(61)), { ...claimOf('k1', 'fp-2', at(60), at(120)), state: 'in_progress' });
    });

    it('get ignores a record from its expiresAt on', async ({ ledger }) => {
      await ledger.claim(claimOf('k1', 'fp-1', at(0), at(60)));
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'k1', at(59.999)))?.fingerprint, 'fp-1');
      assert.equal(await ledger.get('alice', 'crm/update_contact', 'k1', at(60)), undefined);
      assert.equal(await ledger.get('alice', 'crm/update_contact', 'k1', at(61)), undefined);
    });

    it('prune deletes the records expired at now and says how many', async ({ ledger }) => {
      await ledger.claim(claimOf('k1', 'fp', at(0), at(10)));
      await ledger.claim(claimOf('k2', 'fp', at(0), at(20)));
      await ledger.claim(claimOf('k3', 'fp', at(0), at(30)));
      await ledger.complete('alice', 'crm/update_contact', 'k1', 'committed', { ok: true });
      assert.equal(await ledger.prune(at(5)), 0);
      assert.equal(await ledger.prune(at(20)), 2);
      assert.equal(await ledger.prune(at(20)), 0);
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'k3', at(25)))?.key, 'k3');
      // A pruned key is free again, even for a claim dated before its old expiry.
      assert.deepEqual(await ledger.claim(claimOf('k1', 'fp-new', at(1), at(11))), { claimed: true });
    });

    it('crash recovery: markStarted, list, reconcile only the named owner\'s in_progress record, unknown never expires nor is reclaimed', async ({ ledger }) => {
      const owned = (key: string, owner: string) => ({ ...claimOf(key, 'fp', at(0), at(10)), owner });
      await ledger.claim(owned('sent', 'host-a:1'));
      await ledger.claim(owned('waiting', 'host-a:1'));
      await ledger.claim(owned('alive', 'host-a:2'));
      await ledger.markStarted('alice', 'crm/update_contact', 'sent', at(1));
      await ledger.markStarted('alice', 'crm/update_contact', 'alive', at(1));
      const inFlight = await ledger.list('in_progress');
      assert.deepEqual(inFlight.map((r) => [r.key, r.owner, r.startedAt ?? null]).sort(), [['alive', 'host-a:2', at(1)], ['sent', 'host-a:1', at(1)], ['waiting', 'host-a:1', null]]);
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'alive', owner: 'host-a:1' }, 'unknown'), false, 'another owner: left alone');
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'sent', owner: 'host-a:1' }, 'unknown'), true);
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'sent', owner: 'host-a:1' }, 'unknown'), false, 'once');
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'waiting', owner: 'host-a:1' }, 'failed'), true);
      assert.deepEqual((await ledger.list('unknown')).map((r) => r.key), ['sent']);
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'sent', at(3600)))?.state, 'unknown', 'an unknown record does not expire');
      assert.equal(await ledger.prune(at(3600)), 2, 'prune keeps the unknown record');
      const reclaim = await ledger.claim({ ...claimOf('sent', 'fp', at(3600), at(3700)), owner: 'host-b:1' });
      assert.equal(reclaim.claimed, false);
      assert.equal(!reclaim.claimed && reclaim.existing.state, 'unknown');
      await ledger.complete('alice', 'crm/update_contact', 'sent', 'committed', { no: 1 });
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'sent', at(1)))?.state, 'unknown', 'complete moves only in_progress');
      assert.equal(await ledger.resolve('alice', 'crm/update_contact', 'sent', 'committed', { sent: true }), true);
      assert.equal(await ledger.resolve('alice', 'crm/update_contact', 'sent', 'failed'), false, 'resolve moves only unknown');
      const resolved = await ledger.get('alice', 'crm/update_contact', 'sent', at(1));
      assert.deepEqual([resolved?.state, resolved?.result], ['committed', { sent: true }]);
    });

    it('list is oldest first; markStarted marks only an in_progress record', async ({ ledger }) => {
      await ledger.claim(claimOf('late', 'fp', at(5), at(65)));
      await ledger.claim(claimOf('early', 'fp', at(1), at(61)));
      await ledger.claim(claimOf('middle', 'fp', at(3), at(63)));
      assert.deepEqual((await ledger.list('in_progress')).map((r) => r.key), ['early', 'middle', 'late']);
      await ledger.complete('alice', 'crm/update_contact', 'early', 'committed', { ok: true });
      await ledger.markStarted('alice', 'crm/update_contact', 'early', at(7));
      assert.equal((await ledger.get('alice', 'crm/update_contact', 'early', at(8)))?.startedAt, undefined, 'a committed call is not started again');
    });

    it('a record claimed without an owner is reconciled by owner null', async ({ ledger }) => {
      await ledger.claim(claimOf('legacy', 'fp'));
      assert.equal((await ledger.list('in_progress'))[0]?.owner, undefined);
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'legacy', owner: 'host-a:1' }, 'unknown'), false);
      assert.equal(await ledger.reconcile({ agent: 'alice', tool: 'crm/update_contact', key: 'legacy' }, 'unknown'), true);
    });
  });

  describe(`${name}: review store`, () => {
    it('add stores an unacknowledged item with a rev_ id that get returns unchanged', async ({ reviews }) => {
      const input = newReview();
      const added = await reviews.add(input);
      assert.match(added.id, /^rev_[0-9a-z]{16}$/);
      assert.deepEqual(added, { ...input, id: added.id });
      assert.deepEqual(await reviews.get(added.id), added);
      assert.notEqual((await reviews.add(newReview())).id, added.id);
      assert.equal(await reviews.get('rev_doesnotexist0000'), undefined);
    });

    it('ack marks an item once; a second ack returns undefined and keeps the first', async ({ reviews }) => {
      const { id } = await reviews.add(newReview());
      const acked = await reviews.ack(id, 'bob', at(10));
      assert.deepEqual(acked, { ...newReview(), id, ackedAt: at(10), ackedBy: 'bob' });
      assert.deepEqual(await reviews.get(id), acked);
      assert.equal(await reviews.ack(id, 'carol', at(11)), undefined);
      assert.deepEqual(await reviews.get(id), acked);
      assert.equal(await reviews.ack('rev_doesnotexist0000', 'bob', at(12)), undefined);
    });

    it('list returns newest first; pending only the unacknowledged; limit caps it', async ({ reviews }) => {
      const b = await reviews.add(newReview({ at: at(20) }));
      const a = await reviews.add(newReview({ at: at(10) }));
      const d = await reviews.add(newReview({ at: at(40) }));
      const c = await reviews.add(newReview({ at: at(30) }));
      await reviews.ack(d.id, 'bob', at(50));
      await reviews.ack(a.id, 'bob', at(50));

      const ids = async (filter?: Parameters<ReviewStore['list']>[0]) => (await reviews.list(filter)).map((r) => r.id);
      assert.deepEqual(await ids(), [d.id, c.id, b.id, a.id]);
      assert.deepEqual(await ids({ pending: false }), [d.id, c.id, b.id, a.id], 'pending: false does not filter');
      assert.deepEqual(await ids({ pending: true }), [c.id, b.id]);
      assert.deepEqual(await ids({ pending: true, limit: 1 }), [c.id]);
      assert.deepEqual(await ids({ limit: 3 }), [d.id, c.id, b.id]);
    });

    it('items of the same millisecond are listed later insert first', async ({ reviews }) => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await reviews.add(newReview())).id);
      const newestFirst = made.reverse();
      assert.deepEqual((await reviews.list()).map((r) => r.id), newestFirst);
      assert.deepEqual((await reviews.list({ pending: true, limit: 2 })).map((r) => r.id), newestFirst.slice(0, 2));
    });
  });

  describe(`${name}: pin store`, () => {
    const def = (description: string) => ({ name: 'update_contact', description, inputSchema: { type: 'object', properties: { id: { type: 'number' } } } });

    it('pin records the first definition; pinning again keeps it and changes nothing', async ({ pins }) => {
      assert.deepEqual(await pins.states(), []);
      assert.equal(await pins.get('crm', 'update_contact'), undefined);
      const v0 = await pins.version();
      assert.equal(v0, 0, 'no pin, version 0');

      await pins.pin('crm', 'update_contact', 'h1', def('one'), at(1));
      const pinned = { server: 'crm', tool: 'update_contact', hash: 'h1', definition: def('one'), pinnedAt: at(1), status: 'pinned' };
      assert.deepEqual(await pins.get('crm', 'update_contact'), pinned);
      const v1 = await pins.version();
      assert.ok(v1 > v0, 'a first pin is a change');

      await pins.pin('crm', 'update_contact', 'h2', def('two'), at(2));
      assert.deepEqual(await pins.get('crm', 'update_contact'), pinned);
      assert.equal(await pins.version(), v1, 'pinning again is no change');
    });

    it('quarantine keeps the accepted definition and records the changed one', async ({ pins }) => {
      await pins.pin('crm', 'update_contact', 'h1', def('one'), at(1));
      const v1 = await pins.version();
      await pins.quarantine('crm', 'update_contact', 'h2', def('two'), at(2));
      const quarantined = {
        server: 'crm', tool: 'update_contact', hash: 'h1', definition: def('one'), pinnedAt: at(1),
        status: 'quarantined', changedHash: 'h2', changedDefinition: def('two'), changedAt: at(2),
      };
      assert.deepEqual(await pins.get('crm', 'update_contact'), quarantined);
      const v2 = await pins.version();
      assert.ok(v2 > v1);

      await pins.quarantine('crm', 'update_contact', 'h2', def('two'), at(3));
      assert.deepEqual(await pins.get('crm', 'update_contact'), quarantined, 'the same change again keeps its first changedAt');
      assert.equal(await pins.version(), v2, 'and is no change');

      await pins.quarantine('crm', 'update_contact', 'h3', def('three'), at(4));
      assert.deepEqual(await pins.get('crm', 'update_contact'), { ...quarantined, changedHash: 'h3', changedDefinition: def('three'), changedAt: at(4) });
      assert.ok((await pins.version()) > v2, 'another change of a quarantined tool is a change');

      await pins.quarantine('crm', 'unknown_tool', 'h9', def('nine'), at(5));
      assert.equal(await pins.get('crm', 'unknown_tool'), undefined, 'only a pinned tool can be quarantined');

      await pins.pin('billing', 'refund', 'h5', def('five'), at(6));
      assert.deepEqual(await pins.states(), [
        { server: 'billing', tool: 'refund', hash: 'h5', status: 'pinned' },
        { server: 'crm', tool: 'update_contact', hash: 'h1', status: 'quarantined', changedHash: 'h3' },
      ], 'states: ordered by server and tool, without definitions');
    });

    it('accept pins the changed definition; accepting a tool that is not quarantined returns undefined', async ({ pins }) => {
      await pins.pin('crm', 'update_contact', 'h1', def('one'), at(1));
      assert.equal(await pins.accept('crm', 'update_contact', at(2)), undefined, 'pinned, not quarantined');
      assert.equal(await pins.accept('crm', 'unknown_tool', at(2)), undefined);
      const v1 = await pins.version();
      await pins.quarantine('crm', 'update_contact', 'h2', def('two'), at(3));
      const v2 = await pins.version();

      const accepted = await pins.accept('crm', 'update_contact', at(4));
      const expected = { server: 'crm', tool: 'update_contact', hash: 'h2', definition: def('two'), pinnedAt: at(4), status: 'pinned' };
      assert.deepEqual(accepted, expected);
      assert.deepEqual(await pins.get('crm', 'update_contact'), expected);
      const v3 = await pins.version();
      assert.ok(v1 < v2 && v2 < v3, `versions ${v1} < ${v2} < ${v3}`);

      assert.equal(await pins.accept('crm', 'update_contact', at(5)), undefined, 'accepted already');
      assert.equal(await pins.version(), v3);
    });

    it('version grows on every change to any tool, and states() lists every pin by server and tool', async ({ pins }) => {
      const seen = [await pins.version()];
      const step = async (change: () => unknown) => {
        await change();
        seen.push(await pins.version());
      };
      await step(() => pins.pin('zeta', 'b', 'h', def('z'), at(1)));
      await step(() => pins.pin('alpha', 'b', 'h', def('a'), at(1)));
      await step(() => pins.pin('alpha', 'a', 'h', def('a'), at(1)));
      await step(() => pins.quarantine('zeta', 'b', 'h2', def('z2'), at(2)));
      await step(() => pins.quarantine('alpha', 'a', 'h2', def('a2'), at(2)));
      await step(() => pins.accept('alpha', 'a', at(3)));
      await step(() => pins.accept('zeta', 'b', at(3)));
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `version after change ${i}: ${seen.join(', ')}`);

      const all = await pins.states();
      assert.deepEqual(all.map((p) => `${p.server}/${p.tool}:${p.hash}:${p.status}`), ['alpha/a:h2:pinned', 'alpha/b:h:pinned', 'zeta/b:h2:pinned']);
    });
  });

  describe(`${name}: two connections to the same store`, () => {
    race('of 20 claims alternating between connections exactly one wins, and all see its record', async (first, second) => {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second).ledger.claim(claimOf('k1', `fp-${i}`, at(i), at(60 + i)))),
      );
      const winners = outcomes.flatMap((o, i) => (o.claimed ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
      const winner = `fp-${winners[0]!}`;
      for (const o of outcomes) if (!o.claimed) assert.equal(o.existing.fingerprint, winner);
      assert.equal((await second.ledger.get('alice', 'crm/update_contact', 'k1', at(30)))?.fingerprint, winner);

      await (winners[0]! % 2 === 0 ? second : first).ledger.complete('alice', 'crm/update_contact', 'k1', 'committed', { ok: true });
      assert.deepEqual((await first.ledger.get('alice', 'crm/update_contact', 'k1', at(30)))?.result, { ok: true }, 'either connection completes');
    });

    race('an approval is decided once and consumed once across connections', async (first, second) => {
      const { id } = await first.approvals.create(newApproval());
      const decisions = await Promise.all([
        first.approvals.decide(id, { approved: true, by: 'bob', at: at(10), grantExpiresAt: at(70) }),
        second.approvals.decide(id, { approved: true, by: 'carol', at: at(10), grantExpiresAt: at(70) }),
      ]);
      assert.equal(decisions.filter((d) => d !== undefined).length, 1);
      const consumed = await Promise.all([
        second.approvals.consume(id, 'hash-1', at(20)),
        first.approvals.consume(id, 'hash-1', at(20)),
        second.approvals.consume(id, 'hash-1', at(20)),
      ]);
      assert.deepEqual(consumed.filter(Boolean).length, 1, `consumed: ${consumed.join(', ')}`);
      assert.equal((await second.approvals.get(id))?.status, 'consumed');

      const other = await second.approvals.create(newApproval());
      const ended = await Promise.all([first.approvals.expire(other.id, at(300)), second.approvals.decide(other.id, { approved: true, by: 'bob', at: at(299) })]);
      assert.equal(ended.filter((e) => e === true || (typeof e === 'object' && e !== null)).length, 1, 'expire or decide, not both');
    });

    race('a review item is acknowledged once across connections', async (first, second) => {
      const { id } = await first.reviews.add(newReview());
      const acks = await Promise.all([second.reviews.ack(id, 'bob', at(1)), first.reviews.ack(id, 'carol', at(1))]);
      assert.equal(acks.filter((a) => a !== undefined).length, 1);
      assert.deepEqual(await first.reviews.list({ pending: true }), []);
    });

    race('a pin change in one connection bumps the version the other reads, and accept wins once', async (first, second) => {
      const v0 = await first.pins.version();
      await second.pins.pin('crm', 'update_contact', 'h1', { d: 1 }, at(1));
      const v1 = await first.pins.version();
      assert.ok(v1 > v0, 'no connection may cache the version');
      assert.equal((await first.pins.get('crm', 'update_contact'))?.hash, 'h1');
      await first.pins.quarantine('crm', 'update_contact', 'h2', { d: 2 }, at(2));
      const v2 = await second.pins.version();
      assert.ok(v2 > v1);
      const accepts = await Promise.all([first.pins.accept('crm', 'update_contact', at(3)), second.pins.accept('crm', 'update_contact', at(3))]);
      assert.equal(accepts.filter((a) => a !== undefined).length, 1);
      assert.ok((await first.pins.version()) > v2);
      assert.equal((await second.pins.get('crm', 'update_contact'))?.hash, 'h2');
    });
  });
}
