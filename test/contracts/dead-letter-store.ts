import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeadLetterStore, NewDeadLetter } from '../../src/ports/dead-letter-store.js';

const at = (seconds: number): string => new Date(Date.parse('2026-01-01T00:00:00.000Z') + seconds * 1000).toISOString();

function callLetter(overrides: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    kind: 'call',
    createdAt: at(0),
    agent: 'alice',
    profile: 'sales',
    server: 'crm',
    tool: 'update_contact',
    payload: { approval: 'apr_1', key: 'approval:apr_1', arguments: { id: 7, note: 'ü\u0000' } },
    error: { code: 'GH_DOWNSTREAM_TIMEOUT', message: 'no answer' },
    attempts: 1,
    ...overrides,
  };
}

/** The behaviour every DeadLetterStore adapter must have; `open` returns an empty store and how to close it. */
export function deadLetterStoreContract(name: string, open: () => Promise<{ letters: DeadLetterStore; close: () => Promise<void> }>): void {
  const it = (title: string, body: (letters: DeadLetterStore) => Promise<void>): void => {
    test(title, async () => {
      const { letters, close } = await open();
      try {
        await body(letters);
      } finally {
        await close();
      }
    });
  };

  describe(`${name}: dead-letter store`, () => {
    it('add stores an open letter with a dl_ id (or the id given) that get and list return unchanged', async (letters) => {
      const input = callLetter();
      const added = await letters.add(input);
      assert.match(added.id, /^dl_[0-9a-f]{16}$/);
      assert.deepEqual(added, { ...input, id: added.id, status: 'open' });
      assert.deepEqual(await letters.get(added.id), added);
      const events = await letters.add({ kind: 'events', createdAt: at(1), payload: { events: [{ type: 'session.opened' }] }, error: { code: 'GH_STORE_UNAVAILABLE', message: 'down' }, attempts: 4 }, 'dl_from_file');
      assert.equal(events.id, 'dl_from_file');
      assert.equal(events.agent, undefined);
      assert.deepEqual((await letters.list()).map((l) => l.id), ['dl_from_file', added.id], 'newest first');
      assert.deepEqual((await letters.list({ status: 'open', limit: 1 })).map((l) => l.id), ['dl_from_file']);
      assert.equal(await letters.get('dl_none'), undefined);
      await assert.rejects(letters.add(callLetter(), 'dl_from_file'), 'ids are unique');
    });

    it('letters of the same millisecond are listed later insert first', async (letters) => {
      const made = [];
      for (let i = 0; i < 3; i++) made.push((await letters.add(callLetter())).id);
      const newestFirst = made.reverse();
      assert.deepEqual((await letters.list()).map((l) => l.id), newestFirst);
      assert.deepEqual((await letters.list({ status: 'open', limit: 2 })).map((l) => l.id), newestFirst.slice(0, 2));
    });

    it('transition is a compare-and-set; a failed retry counts an attempt and keeps its error; settling records who and why', async (letters) => {
      const { id } = await letters.add(callLetter());
      assert.equal(await letters.transition(id, 'retrying', 'retried', { at: at(1) }), false);
      assert.equal(await letters.transition(id, 'open', 'retrying', { at: at(1), by: 'carol', owner: 'host-a:4242' }), true);
      assert.equal(await letters.transition(id, 'open', 'retrying', { at: at(1), by: 'dave', owner: 'host-b:1' }), false, 'one retry at a time');
      assert.equal((await letters.get(id))?.claimedBy, 'host-a:4242', 'the retrying process is kept');
      assert.equal(await letters.transition(id, 'retrying', 'open', { at: at(2), error: { code: 'GH_DOWNSTREAM_ERROR', message: 'again' } }), true);
      let letter = await letters.get(id);
      assert.deepEqual([letter?.status, letter?.attempts, letter?.error.code, letter?.settledBy], ['open', 2, 'GH_DOWNSTREAM_ERROR', 'carol']);
      assert.equal(await letters.transition(id, 'open', 'dropped', { at: at(3), by: 'dave', reason: 'sent by hand' }), true);
      letter = await letters.get(id);
      assert.deepEqual([letter?.status, letter?.settledAt, letter?.settledBy, letter?.settleReason, letter?.attempts], ['dropped', at(3), 'dave', 'sent by hand', 2]);
      assert.equal(await letters.transition(id, 'open', 'retrying', { at: at(4) }), false, 'a dropped letter stays dropped');
      assert.deepEqual((await letters.list({ status: 'dropped' })).map((l) => l.id), [id]);
    });
  });
}
