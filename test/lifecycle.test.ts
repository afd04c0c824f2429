import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { openSqlite } from '../src/adapters/sqlite/database.js';
import { SqliteEventStore } from '../src/adapters/sqlite/event-store.js';
import {
  childProcesses,
  httpClient,
  isAlive,
  runCli,
  SERVERS,
  standardConfig,
  startServe,
  stdioClient,
  tempConfig,
  text,
  TOKENS,
  UNGATED,
  waitFor,
} from './helpers/gatehouse.js';

/** Downstream servers of a gateway process (its node children running a reference server). */
function downstreams(gatewayPid: number) {
  return childProcesses(gatewayPid).filter((child) => child.args.includes('@modelcontextprotocol/server-'));
}

describe('downstream server lifecycle', () => {
  test('gatehouse connect (stdio) lists and calls, and starts a server only on first use', async () => {
    const temp = tempConfig(standardConfig());
    try {
      const { client, pid } = await stdioClient(temp.configPath, 'builder');
      try {
        assert.equal(downstreams(pid).length, 0, 'no server may start with the gateway');
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        assert.ok(names.includes('everything__echo') && names.includes('memory__create_entities'));
        const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'over stdio' } });
        assert.equal(text(result), 'Echo: over stdio');
        const seen: number[] = [];
        await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 0.4, steps: 4 } }, undefined, {
          onprogress: (progress) => seen.push(progress.progress),
        });
        assert.deepEqual(seen, [1, 2, 3, 4]);
        // Params that do not fit are invalid params naming the field, over stdio too.
        const stringArguments = await client
          .request({ method: 'tools/call', params: { name: 'everything__echo', arguments: '{"message":"x"}' } } as never, CallToolResultSchema)
          .catch((error: McpError) => error);
        assert.ok(stringArguments instanceof McpError);
        assert.equal(stringArguments.message, 'MCP error -32602: invalid params for tools/call: params.arguments: expected record, received string');
      } finally {
        await client.close();
      }
    } finally {
      temp.cleanup();
    }
  });

  test('lazy mode: search and describe start no process; call_tool does, through the same pipeline', async () => {
    const temp = tempConfig(standardConfig());
    try {
      // Before any index, search finds nothing and says which servers it could not look in.
      const unindexed = await startServe(temp.configPath);
      try {
        const client = await httpClient(unindexed.url, 'research', TOKENS.alice);
        const search = (await client.callTool({ name: 'search_tools', arguments: { query: 'read a text file' } })).structuredContent as { results: unknown[]; unindexed?: string[] };
        assert.deepEqual(search.results, []);
        assert.ok(['everything', 'filesystem'].every((server) => search.unindexed?.includes(server)), JSON.stringify(search));
        await client.close();
      } finally {
        await unindexed.stop();
      }
      assert.equal(runCli(['index', '--config', temp.configPath]).status, 0);
      const gateway = await startServe(temp.configPath);
      try {
        const client = await httpClient(gateway.url, 'research', TOKENS.alice);
        const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
        assert.deepEqual(names, ['approval_status', 'call_tool', 'describe_tool', 'search_tools']);
        const search = await client.callTool({ name: 'search_tools', arguments: { query: 'read a text file', limit: 5 } });
        assert.equal((search.structuredContent as { unindexed?: string[] }).unindexed, undefined, 'every server indexed');
        const hits = (search.structuredContent as { results: Array<{ name: string }> }).results.map((hit) => hit.name);
        assert.equal(hits[0], 'filesystem__read_text_file', hits.join(','));
        assert.ok(!hits.includes('filesystem__write_file'), 'search never shows tools outside the profile');
        for (const limit of [0, 51, 2.5, '5']) {
          const refused = await client.callTool({ name: 'search_tools', arguments: { query: 'read', limit } });
          assert.equal(refused.isError, true, `limit ${JSON.stringify(limit)}`);
          assert.match(text(refused), /GH_INVALID_ARGUMENTS.*search_tools: "limit" must be a whole number from 1 to 50/);
        }
        const described = await client.callTool({ name: 'describe_tool', arguments: { name: 'everything__get-sum' } });
        assert.deepEqual(Object.keys((described.structuredContent as { inputSchema: { properties: object } }).inputSchema.properties).sort(), ['a', 'b']);
        const outside = await client.callTool({ name: 'describe_tool', arguments: { name: 'filesystem__write_file' } }).catch((e: Error) => e);
        assert.match(outside instanceof Error ? outside.message : text(outside), /not available in profile "research"/);
        assert.equal(downstreams(gateway.process.pid!).length, 0, 'search and describe must not start a server');

        const invalid = await client.callTool({ name: 'call_tool', arguments: { name: 'everything__get-sum', arguments: { a: 'x', b: 1 } } });
        assert.equal(invalid.isError, true);
        assert.match(text(invalid), /GH_INVALID_ARGUMENTS/);
        assert.equal(downstreams(gateway.process.pid!).length, 0, 'invalid arguments never reach (or start) the server');

        const sum = await client.callTool({ name: 'call_tool', arguments: { name: 'everything__get-sum', arguments: { a: 2, b: 40 } } });
        assert.match(text(sum), /42/);
        assert.equal(downstreams(gateway.process.pid!).length, 1);
        const write = await client.callTool({ name: 'call_tool', arguments: { name: 'filesystem__write_file', arguments: { path: 'x', content: 'y' } } }).catch((e: Error) => e);
        assert.match(write instanceof Error ? write.message : text(write), /not available in profile "research"/);
        await client.close();
      } finally {
        await gateway.stop();
      }
      const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
      const calls = (await events.read()).filter((event) => event.type.startsWith('tool.call.') && event.type !== 'tool.call.requested');
      assert.deepEqual(
        calls.map((event) => [event.tool, event.payload.via, event.payload.outcome]),
        [
          ['get-sum', 'call_tool', 'error'],
          ['get-sum', 'call_tool', 'ok'],
          ['filesystem__write_file', 'call_tool', 'error'],
        ],
      );
    } finally {
      temp.cleanup();
    }
  });

  test('an idle server is stopped after its idle timeout and started again on the next call', async () => {
    const config = standardConfig();
    (config.servers as Record<string, Record<string, unknown>>).everything!.idleTimeoutMs = 400;
    const temp = tempConfig(config);
    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
      await client.callTool({ name: 'everything__echo', arguments: { message: 'one' } });
      const [child] = downstreams(gateway.process.pid!);
      assert.ok(child);
      await waitFor(() => !isAlive(child.pid), 5_000, 'the idle server to stop');
      const again = await client.callTool({ name: 'everything__echo', arguments: { message: 'two' } });
      assert.equal(text(again), 'Echo: two');
      await client.close();
    } finally {
      await gateway.stop();
      temp.cleanup();
    }
  });

  test('a server started through a wrapper (npx, a shell script) is stopped with all its processes', async () => {
    const everything = SERVERS.everything.args.join(' ');
    const config = standardConfig();
    // `sh -c "node …; true"` keeps sh as the child and node as a grandchild, as npx does.
    (config.servers as Record<string, unknown>).wrapped = { command: 'sh', args: ['-c', `${process.execPath} ${everything}; true`], idleTimeoutMs: 500, tools: UNGATED };
    (config.profiles as Record<string, { allow: string[] }>).builder!.allow.push('wrapped/*');
    const temp = tempConfig(config);
    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
      assert.equal(text(await client.callTool({ name: 'wrapped__echo', arguments: { message: 'wrapped' } })), 'Echo: wrapped');
      const shell = childProcesses(gateway.process.pid!).find((child) => child.args.startsWith('sh -c'));
      const [grandchild] = childProcesses(shell!.pid);
      assert.ok(grandchild, 'the wrapper runs the server as its child');
      await waitFor(() => !isAlive(grandchild.pid) && !isAlive(shell!.pid), 8_000, 'the idle stop to end the whole group');
      await client.close();
    } finally {
      await gateway.stop();
      temp.cleanup();
    }
  });

  test('a server that dies at start gives a clear error with its last stderr line; other servers keep serving', async () => {
    const config = standardConfig();
    (config.servers as Record<string, unknown>).broken = {
      command: process.execPath,
      args: ['-e', 'console.error("boom: FAKE_API_KEY is not set"); process.exit(3)'],
    };
    (config.servers as Record<string, unknown>).nowhere = { command: process.execPath, args: ['-e', ''], cwd: 'does/not/exist' };
    (config.profiles as Record<string, { allow: string[] }>).builder!.allow.push('broken/*', 'nowhere/*');
    const temp = tempConfig(config);
    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('everything__echo'), 'the other servers are listed');
      const result = await client.callTool({ name: 'broken__anything', arguments: {} });
      assert.equal(result.isError, true);
      assert.match(text(result), /^GH_DOWNSTREAM_UNAVAILABLE: server "broken" could not be started: .*\(it exited with code 3; its stderr ends: boom: FAKE_API_KEY is not set\)/);
      // A missing cwd is named as such; spawn itself would blame the command.
      const nowhere = await client.callTool({ name: 'nowhere__anything', arguments: {} });
      assert.match(text(nowhere), /^GH_DOWNSTREAM_UNAVAILABLE: server "nowhere" could not be started: its cwd .*does\/not\/exist does not exist/);
      assert.equal(text(await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } })), 'Echo: still here');
      await client.close();
    } finally {
      await gateway.stop();
    }
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    const crashes = (await events.read({ type: 'server.crashed' })).filter((event) => event.server === 'broken');
    assert.equal(crashes.length, 2, 'one crash per failed start (the listing and the call), never two for one');
    temp.cleanup();
  });

  test('a killed child is restarted on the next call', async () => {
    const temp = tempConfig(standardConfig());
    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
      await client.callTool({ name: 'everything__echo', arguments: { message: 'before' } });
      const [child] = downstreams(gateway.process.pid!);
      process.kill(child!.pid, 'SIGKILL');
      await waitFor(() => !isAlive(child!.pid), 5_000, 'the child to die');
      const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'after' } });
      assert.equal(text(result), 'Echo: after');
      const [replacement] = downstreams(gateway.process.pid!);
      assert.ok(replacement && replacement.pid !== child!.pid);
      await client.close();
    } finally {
      await gateway.stop();
    }
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    assert.equal(await events.count('server.crashed'), 1);
    assert.equal(await events.count('server.started'), 2);
    temp.cleanup();
  });

  test('after a gateway restart, listing is served from the cache with zero children', async () => {
    const temp = tempConfig(standardConfig());
    try {
      const first = await startServe(temp.configPath);
      const client = await httpClient(first.url, 'builder', TOKENS.alice);
      const before = (await client.listTools()).tools.map((tool) => tool.name).sort();
      assert.equal(downstreams(first.process.pid!).length, 3, 'the first listing starts every server once');
      await client.close();
      await first.stop();

      const second = await startServe(temp.configPath);
      try {
        const again = await httpClient(second.url, 'builder', TOKENS.alice);
        const after = (await again.listTools()).tools.map((tool) => tool.name).sort();
        assert.deepEqual(after, before);
        assert.equal(downstreams(second.process.pid!).length, 0);
        const health = (await (await fetch(`${second.url}/healthz`)).json()) as { serversRunning: string[] };
        assert.deepEqual(health.serversRunning, []);
        await again.close();
      } finally {
        await second.stop();
      }
    } finally {
      temp.cleanup();
    }
  });

  test('every tool call appends exactly one outcome event, after its requested event', async () => {
    const temp = tempConfig(standardConfig());
    const gateway = await startServe(temp.configPath);
    try {
      const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
      for (let i = 0; i < 25; i += 1) await client.callTool({ name: 'everything__echo', arguments: { message: `m${i}` } });
      await client.callTool({ name: 'everything__get-sum', arguments: { a: 'bad' } });
      await client.close();
    } finally {
      await gateway.stop();
    }
    const events = new SqliteEventStore(openSqlite(path.join(temp.dir, 'state/gatehouse.db')));
    assert.equal(await events.count('tool.call.succeeded'), 25);
    assert.equal(await events.count('tool.call.failed'), 1);
    assert.equal(await events.count('tool.call.requested'), 26);
    const failed = (await events.read({ type: 'tool.call.failed' }))[0]!;
    assert.equal(failed.payload.stage, 'validate');
    assert.equal(failed.agent, 'alice');
    temp.cleanup();
  });
});
