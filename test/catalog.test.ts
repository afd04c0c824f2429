import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { validateConfig } from '../src/config/load.js';
import { Catalog } from '../src/gateway/catalog.js';
import { compileProfiles } from '../src/gateway/profiles.js';
import type { SchemaCache, ServerListing } from '../src/ports/schema-cache.js';

/** The catalog on its own: a schema cache in memory, and servers that only store a listing when started. */

const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });
const listing = (...names: string[]): ServerListing => ({ tools: names.map(tool), resources: [], resourceTemplates: [], prompts: [], listedAt: new Date().toISOString(), source: 'live' });

function memoryCache(): SchemaCache & { listings: Map<string, ServerListing> } {
  const listings = new Map<string, ServerListing>();
  return { listings, get: async (server) => listings.get(server), put: async (server, stored) => void listings.set(server, stored), servers: async () => [...listings.keys()] };
}

const profiles = compileProfiles(
  validateConfig({ servers: { a: { command: 'x' }, b: { command: 'x' }, c: { command: 'x' } }, profiles: { ab: { allow: ['a/*', 'b/write'] } } }, '/tmp/gatehouse.yaml', {}),
);

test('a profile touches only the servers its allowlist names', () => {
  assert.deepEqual(profiles.get('ab')!.servers, ['a', 'b']);
});

test('a tool list that had to leave out a server that could not start is not remembered: the next list tries it again', async () => {
  const cache = memoryCache();
  cache.listings.set('a', listing('read'));
  let starts = 0;
  const catalog: Catalog = new Catalog(
    new Map([['b', { connect: async () => (starts += 1) === 1 ? Promise.reject(new Error('could not start')) : catalog.store('b', listing('write', 'admin')) } as never]]),
    cache,
    () => undefined,
  );
  const profile = profiles.get('ab')!;
  assert.deepEqual((await catalog.tools(profile)).map((entry) => entry.exposed), ['a__read']);
  assert.deepEqual((await catalog.tools(profile)).map((entry) => entry.exposed), ['a__read', 'b__write']);
  assert.deepEqual((await catalog.tools(profile)).map((entry) => entry.exposed), ['a__read', 'b__write']);
  assert.equal(starts, 2, 'once the whole view is known it is remembered');
});

test('a listing stored while the schema cache was being read wins over the older one read', async () => {
  let answer!: (stored: ServerListing) => void;
  const slowCache: SchemaCache = { get: () => new Promise((resolve) => (answer = resolve)), put: async () => undefined, servers: async () => [] };
  const catalog = new Catalog(new Map(), slowCache, () => undefined);
  const reading = catalog.cached('a');
  await catalog.store('a', listing('new_tool'));
  answer(listing('old_tool'));
  assert.deepEqual((await reading)?.tools.map((entry) => entry.name), ['new_tool']);
  assert.deepEqual((await catalog.cached('a'))?.tools.map((entry) => entry.name), ['new_tool']);
});

test('a listing that changes while a tool list is being built is in the next list', async () => {
  let answerB!: (stored: ServerListing) => void;
  const cache: SchemaCache = {
    get: (server) => (server === 'b' ? new Promise((resolve) => (answerB = resolve)) : Promise.resolve(listing('read'))),
    put: async () => undefined,
    servers: async () => [],
  };
  const catalog = new Catalog(new Map(), cache, () => undefined);
  const profile = profiles.get('ab')!;
  const building = catalog.tools(profile);
  await new Promise((resolve) => setImmediate(resolve)); // a's listing has been read; b's not yet
  await catalog.store('a', listing('read', 'added')); // a said tools/list_changed meanwhile
  answerB(listing('write'));
  assert.deepEqual((await building).map((entry) => entry.exposed), ['a__read', 'b__write'], 'built from the listings it read');
  assert.deepEqual((await catalog.tools(profile)).map((entry) => entry.exposed), ['a__read', 'a__added', 'b__write']);
});
