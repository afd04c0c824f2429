import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './helpers/postgres.js';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/lib/postgres.js');

/** Whether something accepts connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

test('a cluster whose starting process was killed is stopped and deleted by the next cluster start', async () => {
  // A test file killed before its after-hook: its cluster would keep running until the machine restarts.
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { startPostgres } = await import(${JSON.stringify(HELPER)}); const c = await startPostgres(); console.log(JSON.stringify({ port: c.port, url: c.url('postgres') })); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const started = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as { port: number; url: string });
    });
    child.once('exit', (code) => reject(new Error(`the cluster's process exited (${code}) before it started one`)));
  });
  assert.equal(clustersStartedBy(child.pid!).length, 1, 'its folder names the process that started it');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.equal(await listening(started.port), true, 'the orphaned cluster is still running');

  const cluster = await startPostgres();
  try {
    assert.equal(await listening(started.port), false, 'the orphan was stopped');
  } finally {
    await cluster.stop();
  }
  assert.deepEqual(clustersStartedBy(child.pid!), [], 'and its folder deleted');
});

/** The cluster folders in the temp folder whose owner file names `pid`. */
function clustersStartedBy(pid: number): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith('gatehouse-pg-'))
    .filter((name) => {
      const owner = path.join(tmpdir(), name, 'started-by.pid');
      return existsSync(owner) && readFileSync(owner, 'utf8') === String(pid);
    });
}
