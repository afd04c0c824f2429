import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { httpClient, REPO, startServe, stopProcess, tempConfig, text, TOKENS, UNGATED } from './helpers/gatehouse.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test('a streamable HTTP downstream server is fronted like a stdio one', async () => {
  const port = await freePort();
  const downstream = spawn(process.execPath, [path.join(REPO, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    downstream.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on port')) resolve();
    });
    downstream.once('exit', () => reject(new Error(stderr)));
  });
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { remote: { domain: 'builder', url: `http://127.0.0.1:${port}/mcp`, tools: UNGATED } },
    profiles: { p: { mode: 'eager', allow: ['remote/*'] } },
    agents: { alice: { profiles: ['p'], tokenEnv: 'TEST_TOKEN_ALICE' } },
  });
  const gateway = await startServe(temp.configPath);
  try {
    const client = await httpClient(gateway.url, 'p', TOKENS.alice);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    assert.ok(names.includes('remote__echo'), names.join(','));
    for (let i = 0; i < 20; i += 1) {
      assert.equal(text(await client.callTool({ name: 'remote__echo', arguments: { message: `via http ${i}` } })), `Echo: via http ${i}`);
    }
    const seen: number[] = [];
    await client.callTool({ name: 'remote__trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } }, undefined, {
      onprogress: (progress) => seen.push(progress.progress),
    });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    await client.close();
  } finally {
    await gateway.stop();
    await stopProcess(downstream);
    temp.cleanup();
  }
});
