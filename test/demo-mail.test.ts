import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, isAlive, REPO, text, waitFor } from './helpers/gatehouse.js';

const GOVERNANCE_SERVER = path.join(REPO, 'dist/test/fixtures/governance-server.js');

/**
 * An SDK client on a stdio server started as `node <args>`. The SDK passes the child only a
 * minimal environment, so everything it needs is passed here. `close()` also waits for the exit.
 */
async function connect(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const client = new Client({ name: 'gatehouse-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
    ...(cwd ? { cwd } : {}),
  });
  await client.connect(transport);
  const pid = transport.pid!;
  return {
    client,
    close: async () => {
      await client.close();
      await waitFor(() => !isAlive(pid), 5_000, `server process ${pid} to exit`);
    },
  };
}

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-demo-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

describe('demo mail server (gatehouse demo-server mail)', () => {
  test('tools and annotations, send, dry run, bad address, outbox listing, drafts', async () => {
    const temp = tempDir();
    const outbox = path.join(temp.dir, 'outbox'); // does not exist yet: the server creates it
    const { client, close } = await connect([CLI, 'demo-server', 'mail', '--outbox', outbox]);
    try {
      const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool]));
      assert.deepEqual([...tools.keys()].sort(), ['delete_draft', 'draft_email', 'list_outbox', 'send_email']);
      const hints = (name: string) => {
        const { readOnlyHint, destructiveHint, openWorldHint } = tools.get(name)!.annotations ?? {};
        return { readOnlyHint, destructiveHint, openWorldHint };
      };
      assert.deepEqual(hints('send_email'), { readOnlyHint: false, destructiveHint: false, openWorldHint: true });
      assert.deepEqual(hints('list_outbox'), { readOnlyHint: true, destructiveHint: undefined, openWorldHint: false });
      assert.deepEqual(hints('draft_email'), { readOnlyHint: false, destructiveHint: false, openWorldHint: false });
      assert.deepEqual(hints('delete_draft'), { readOnlyHint: false, destructiveHint: true, openWorldHint: false });
      const sendSchema = tools.get('send_email')!.inputSchema;
      assert.deepEqual([...(sendSchema.required ?? [])].sort(), ['body', 'subject', 'to']);
      assert.equal((sendSchema.properties!.dry_run as { type: string }).type, 'boolean');

      // A dry run writes nothing, not even the folder.
      const dry = await call(client, 'send_email', { to: 'bob@example.com', subject: 'Hi', body: 'Hello', dry_run: true });
      assert.equal(dry.isError, undefined);
      assert.match(text(dry), /^dry run: would send "Hi" to bob@example\.com/);
      assert.equal(existsSync(outbox), false);

      const bad = await call(client, 'send_email', { to: 'not-an-address', subject: 'Hi', body: 'Hello' });
      assert.equal(bad.isError, true);
      assert.match(text(bad), /"not-an-address" is not an email address/);
      const badCc = await call(client, 'send_email', { to: 'bob@example.com', cc: ['ok@example.com', 'nope'], subject: 'Hi', body: 'Hello' });
      assert.equal(badCc.isError, true);
      assert.match(text(badCc), /"nope" is not an email address.*cc/);
      assert.equal(existsSync(outbox), false);

      const sent = await call(client, 'send_email', { to: 'bob@example.com', cc: ['carol@example.com'], subject: 'Quarterly report', body: 'Line one\nLine two' });
      assert.equal(sent.isError, undefined);
      const { id, file } = sent.structuredContent as { id: string; file: string };
      assert.equal(text(sent), `sent message ${id} to bob@example.com`);
      assert.equal(path.dirname(file), outbox);
      assert.match(path.basename(file), new RegExp(`^\\d{8}T\\d{9}Z-${id}\\.eml$`));
      const eml = readFileSync(file, 'utf8');
      const [head, body] = eml.split('\r\n\r\n');
      const headers = head!.split('\r\n');
      assert.deepEqual(headers.slice(0, 4), ['From: gatehouse-demo@localhost', 'To: bob@example.com', 'Cc: carol@example.com', 'Subject: Quarterly report']);
      assert.match(headers[4]!, /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
      assert.equal(headers[5], `Message-ID: <${id}@gatehouse-demo.localhost>`);
      assert.equal(body, 'Line one\r\nLine two\r\n');
      assert.equal(readdirSync(outbox).filter((name) => name.endsWith('.eml')).length, 1);

      const second = await call(client, 'send_email', { to: 'dave@example.com', subject: 'Second', body: '.' });
      const secondId = (second.structuredContent as { id: string }).id;
      const log = readFileSync(path.join(outbox, 'outbox.jsonl'), 'utf8').trim().split('\n');
      assert.equal(log.length, 2);
      assert.equal((JSON.parse(log[0]!) as { to: string }).to, 'bob@example.com');

      const listed = await call(client, 'list_outbox', {});
      const messages = (listed.structuredContent as { messages: Array<{ id: string; to: string; subject: string; file: string }> }).messages;
      assert.deepEqual(messages.map((m) => m.id), [secondId, id], 'newest first');
      assert.equal(messages[1]!.file, file);
      assert.match(text(listed), /Quarterly report/);
      const limited = await call(client, 'list_outbox', { limit: 1 });
      assert.deepEqual((limited.structuredContent as { messages: Array<{ id: string }> }).messages.map((m) => m.id), [secondId]);

      const draft = await call(client, 'draft_email', { to: 'erin@example.com', subject: 'Later', body: 'Not yet' });
      const draftId = (draft.structuredContent as { id: string; file: string }).id;
      const draftFile = path.join(outbox, 'drafts', `${draftId}.json`);
      assert.equal(text(draft), `saved draft ${draftId} to erin@example.com`);
      const saved = JSON.parse(readFileSync(draftFile, 'utf8')) as Record<string, unknown>;
      assert.deepEqual([saved.id, saved.to, saved.subject, saved.body], [draftId, 'erin@example.com', 'Later', 'Not yet']);
      assert.equal(((await call(client, 'list_outbox', {})).structuredContent as { messages: unknown[] }).messages.length, 2, 'a draft is not sent');

      const deleted = await call(client, 'delete_draft', { id: draftId });
      assert.equal(deleted.isError, undefined);
      assert.equal(existsSync(draftFile), false);
      assert.equal((await call(client, 'delete_draft', { id: draftId })).isError, true);
      assert.equal((await call(client, 'delete_draft', { id: '../outbox' })).isError, true);
      assert.equal(existsSync(path.join(outbox, 'outbox.jsonl')), true);
    } finally {
      await close();
      temp.cleanup();
    }
  });

  test('without --outbox: GATEHOUSE_MAIL_OUTBOX, else .gatehouse/outbox in the working directory', async () => {
    const temp = tempDir();
    try {
      for (const [env, expected] of [
        [{ GATEHOUSE_MAIL_OUTBOX: path.join(temp.dir, 'from-env') }, path.join(temp.dir, 'from-env')],
        [{}, path.join(temp.dir, '.gatehouse', 'outbox')],
      ] as const) {
        const { client, close } = await connect([CLI, 'demo-server', 'mail'], env, temp.dir);
        try {
          const sent = await call(client, 'send_email', { to: 'bob@example.com', subject: 'Hi', body: 'Hello' });
          assert.equal(path.dirname((sent.structuredContent as { file: string }).file), expected);
          assert.equal(existsSync(path.join(expected, 'outbox.jsonl')), true);
        } finally {
          await close();
        }
      }
    } finally {
      temp.cleanup();
    }
  });
});

describe('governance test fixture', () => {
  test('records each execution (not a dry run) to GOV_EXECUTIONS_FILE; GOV_VARIANT changes definitions', async () => {
    const temp = tempDir();
    const executions = path.join(temp.dir, 'executions.jsonl');
    try {
      const base = await connect([GOVERNANCE_SERVER], { GOV_EXECUTIONS_FILE: executions });
      let baseTools;
      try {
        baseTools = new Map((await base.client.listTools()).tools.map((tool) => [tool.name, tool]));
        assert.deepEqual([...baseTools.keys()].sort(), ['echo_tool', 'read_value', 'send_message', 'slow_write', 'update_record', 'write_note']);
        assert.equal(baseTools.get('read_value')!.annotations?.readOnlyHint, true);
        assert.equal(baseTools.get('write_note')!.annotations, undefined);
        assert.equal(baseTools.get('update_record')!.annotations?.destructiveHint, true);
        assert.equal(baseTools.get('send_message')!.annotations?.openWorldHint, true);
        assert.equal(baseTools.get('write_note')!.description, 'Write a note.');

        assert.match(text(await call(base.client, 'read_value', {})), /fixed value/);
        await call(base.client, 'write_note', { text: 'hello' });
        assert.match(text(await call(base.client, 'send_message', { to: 'x', text: 'hi', dry_run: true })), /^dry run: would send/);
        await call(base.client, 'send_message', { to: 'x', text: 'hi' });
        await call(base.client, 'slow_write', { ms: 30 });
      } finally {
        await base.close();
      }
      const lines = readFileSync(executions, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { tool: string; arguments: unknown; at: string; pid: number });
      assert.deepEqual(
        lines.map((line) => [line.tool, line.arguments]),
        [
          ['read_value', {}],
          ['write_note', { text: 'hello' }],
          ['send_message', { to: 'x', text: 'hi' }],
          ['slow_write', { ms: 30 }],
        ],
      );
      assert.ok(lines.every((line) => Number.isInteger(line.pid) && !Number.isNaN(Date.parse(line.at))));

      const v2 = await connect([GOVERNANCE_SERVER], { GOV_EXECUTIONS_FILE: executions, GOV_VARIANT: 'b' });
      try {
        const tools = new Map((await v2.client.listTools()).tools.map((tool) => [tool.name, tool]));
        assert.equal(tools.get('write_note')!.description, 'Write a note (v2).');
        assert.deepEqual(Object.keys(baseTools.get('read_value')!.inputSchema.properties ?? {}), []);
        assert.deepEqual(Object.keys(tools.get('read_value')!.inputSchema.properties ?? {}), ['field']);
        assert.deepEqual(tools.get('update_record'), baseTools.get('update_record'), 'the other tools are unchanged');
      } finally {
        await v2.close();
      }
    } finally {
      temp.cleanup();
    }
  });
});
