import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { openStores } from '../src/app.js';
import { runCli, standardConfig, tempConfig } from './helpers/gatehouse.js';

test('commits list --all says how the process holding each in-progress key looks now, on this host and on others', async () => {
  const temp = tempConfig(standardConfig());
  try {
    const owners = {
      alive: `${hostname()}:${process.pid}`,
      gone: `${hostname()}:${2 ** 22 + 7}`, // above Linux's pid_max: no such process
      live: 'far-a:11',
      stopped: 'far-b:12',
      unregistered: 'far-c:13',
    };
    const { stores, close } = await openStores({ kind: 'sqlite', path: path.join(temp.dir, 'state/gatehouse.db'), durability: 'process' });
    try {
      const now = new Date();
      for (const [key, owner] of Object.entries(owners)) {
        await stores.ledger.claim({ agent: 'alice', tool: 'mail/send', key, fingerprint: 'f', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 3_600_000).toISOString(), owner });
      }
      await stores.processes.beat(owners.live);
      await stores.processes.beat(owners.stopped);
      await stores.processes.stopped(owners.stopped);
    } finally {
      await close();
    }
    const listed = runCli(['commits', 'list', '--all', '--json', '--config', temp.configPath]);
    assert.equal(listed.status, 0, listed.stderr);
    const byKey = Object.fromEntries((JSON.parse(listed.stdout) as Array<{ key: string; ownerNow: string }>).map((entry) => [entry.key, entry.ownerNow]));
    assert.deepEqual(byKey, { alive: 'alive', gone: 'gone', live: 'live', stopped: 'stopped', unregistered: 'unregistered' });
    const table = runCli(['commits', 'list', '--all', '--config', temp.configPath]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /OWNER NOW/);
    assert.match(table.stdout, /^stopped\s+in_progress\s+alice\s+mail\/send\s+-\s+far-b:12\s+stopped\s*$/m);
  } finally {
    temp.cleanup();
  }
});
