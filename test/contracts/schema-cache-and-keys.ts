import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTest } from './fixture-test.js';
import type { KeyStore } from '../../src/ports/key-store.js';
import type { SchemaCache, ServerListing } from '../../src/ports/schema-cache.js';

/** A fresh store's schema cache and key store; `openSecondKeys` is the key store of another connection to it. */
export interface CacheAndKeysFixture {
  cache: SchemaCache;
  keys: KeyStore;
  openSecondKeys: () => Promise<KeyStore>;
  close(): Promise<void>;
}

function listing(overrides: Partial<ServerListing> = {}): ServerListing {
  return {
    // A NUL character and key order, as a server may send them: both must come back as written.
    tools: [{ name: 'echo', description: 'null \u0000 byte', inputSchema: { type: 'object', properties: { b: {}, a: {} } } }],
    resources: [],
    resourceTemplates: [],
    prompts: [],
    listedAt: '2026-01-01T00:00:00.000Z',
    source: 'live',
    ...overrides,
  };
}

/**
 * What every SchemaCache and KeyStore adapter must do: the cache keeps the last listing of each
 * server and names them in order; a key, once made, is the key for good, whoever asks again and
 * however many connections race to make it.
 */
export function cacheAndKeyStoreContract(name: string, open: () => Promise<CacheAndKeysFixture>): void {
  const it = fixtureTest(open);

  describe(`${name}: schema cache and key store`, () => {
    it('the cache returns the last listing put for a server, and the servers in name order', async ({ cache }) => {
      assert.equal(await cache.get('srv'), undefined);
      assert.deepEqual(await cache.servers(), []);
      await cache.put('srv', listing());
      assert.deepEqual(await cache.get('srv'), listing());
      assert.deepEqual(Object.keys((await cache.get('srv'))!.tools[0]!.inputSchema.properties!), ['b', 'a'], 'stored as written');
      const relisted = listing({ tools: [], listedAt: '2026-01-02T00:00:00.000Z', source: 'snapshot' });
      await cache.put('srv', relisted);
      assert.deepEqual(await cache.get('srv'), relisted, 'a second put replaces the listing');
      await cache.put('zeta', listing());
      await cache.put('another', listing());
      assert.deepEqual(await cache.servers(), ['another', 'srv', 'zeta']);
    });

    it('a key is made once: asking again, or racing from another connection, returns the first one', async ({ keys, openSecondKeys }) => {
      const second = await openSecondKeys();
      const made = await Promise.all([keys.key('confirm-token', () => Buffer.alloc(32, 1)), second.key('confirm-token', () => Buffer.alloc(32, 2))]);
      assert.deepEqual(made[0], made[1], 'two gateways racing to create a key both get the one that won');
      assert.deepEqual(await keys.key('confirm-token', () => Buffer.alloc(32, 9)), made[0], 'a later create is not stored');
      assert.deepEqual(await second.key('confirm-token', () => Buffer.alloc(32, 9)), made[0]);
      assert.deepEqual(await keys.key('other', () => Buffer.alloc(32, 3)), Buffer.alloc(32, 3), 'each name has its own key');
    });
  });
}
