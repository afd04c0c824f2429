import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { CLI, TEST_ENV, tempConfig } from './helpers/gatehouse.js';

const CONFIG = { store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {} };
const env = { ...process.env, ...TEST_ENV };

describe('output that cannot be written', () => {
  test('a full disk is one error line and exit 1, not a stack trace', { skip: !existsSync('/dev/full') && 'no /dev/full' }, () => {
    const { configPath, cleanup } = tempConfig(CONFIG);
    const full = openSync('/dev/full', 'w');
    try {
      for (const command of [['audit', 'export'], ['runs'], ['dlq', 'list']]) {
        const result = spawnSync(process.execPath, [CLI, ...command, '--config', configPath], { env, encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
        assert.equal(result.status, 1, command.join(' '));
        assert.equal(result.stderr, 'error: cannot write the output: ENOSPC: no space left on device, write\n', command.join(' '));
      }
      // Help and version are output too: commander must not exit 0 before the failed write is seen.
      for (const command of [['--help'], ['tools', '--help'], ['--version']]) {
        const result = spawnSync(process.execPath, [CLI, ...command], { env, encoding: 'utf8', stdio: ['ignore', full, 'pipe'] });
        assert.equal(result.status, 1, command.join(' '));
        assert.equal(result.stderr, 'error: cannot write the output: ENOSPC: no space left on device, write\n', command.join(' '));
      }
    } finally {
      closeSync(full);
      cleanup();
    }
  });

  test('a reader that stopped reading (| head) ends the command quietly with exit 0', async () => {
    const { configPath, cleanup } = tempConfig(CONFIG);
    try {
      for (const command of [['audit', 'export'], ['runs']]) {
        const child = spawn(process.execPath, [CLI, ...command, '--config', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy(); // gone before the command writes: its first write is EPIPE
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
        assert.deepEqual({ status, stderr }, { status: 0, stderr: '' }, command.join(' '));
      }
    } finally {
      cleanup();
    }
  });
});
