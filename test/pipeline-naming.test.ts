import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../src/core/errors.js';
import { naming } from '../src/pipeline/run/context.js';

/** naming() puts where an engine error happened in front of its message, and leaves every other error as it is. */
test('naming: an engine error gets its place; an interrupted run, or a place that cannot be found, keeps the error as it was', async () => {
  const engineError = () => new GatehouseError('GH_PIPELINE_ENGINE', 'the SQL engine refused a statement: no column x', { engine: 'duckdb' });
  await assert.rejects(naming('std.caaspp', async () => { throw engineError(); }), (error: GatehouseError) => {
    assert.equal(error.code, 'GH_PIPELINE_ENGINE');
    assert.equal(error.message, 'std.caaspp: the SQL engine refused a statement: no column x');
    assert.deepEqual(error.data, { engine: 'duckdb', where: 'std.caaspp' });
    return true;
  });
  await assert.rejects(naming(async () => 'gate B, check B.types', async () => { throw engineError(); }), /^GatehouseError: gate B, check B\.types: the SQL engine/);
  // The stop is the user's, not the SQL's: its message stays "stopped by SIGINT", not prefixed with a table.
  const interrupted = new GatehouseError('GH_PIPELINE_INTERRUPTED', 'stopped by SIGINT before it finished', { signal: 'SIGINT' });
  await assert.rejects(naming('std.caaspp', async () => { throw interrupted; }), (error: unknown) => error === interrupted);
  const unplaced = engineError();
  await assert.rejects(naming(async () => { throw new Error('lost'); }, async () => { throw unplaced; }), (error: unknown) => error === unplaced);
  assert.equal(await naming('std.caaspp', async () => 42), 42);
});
