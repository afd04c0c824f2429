/**
 * The bundled demo mail server (`gatehouse demo-server mail`): an MCP server over stdio whose
 * "sent" mail is files in an outbox folder, so that every governance gate can be shown without a
 * real mail account. Its annotations put its tools on different gates: `list_outbox` is
 * read-only (G0), `draft_email` an internal write (G1), `delete_draft` destructive (G2) and
 * `send_email` writes to the open world (G3, and takes `dry_run` for the preflight).
 *
 * Layout of the outbox folder:
 *   <timestamp>-<id>.eml   one message per send (headers, blank line, body; CRLF line ends)
 *   outbox.jsonl           one JSON line per send, read by list_outbox
 *   drafts/<id>.json       one saved draft each
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const FROM = 'gatehouse-demo@localhost';

/** One line of outbox.jsonl. */
interface SentMessage {
  id: string;
  file: string;
  from: string;
  to: string;
  cc: string[];
  subject: string;
  date: string;
  messageId: string;
}

const email = () => z.email({ error: (issue) => `${JSON.stringify(issue.input)} is not an email address (expected name@domain.tld)` });
const text = (value: string, structured?: Record<string, unknown>): CallToolResult => ({
  content: [{ type: 'text', text: value }],
  ...(structured ? { structuredContent: structured } : {}),
});
const failure = (value: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: value }] });
/** Header values are one line each: a newline in a subject must not start a header of its own. */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');

/** The message as it is written to its .eml file. */
function renderMessage(message: Omit<SentMessage, 'id' | 'file'>, body: string): string {
  const headers = [`From: ${FROM}`, `To: ${message.to}`];
  if (message.cc.length > 0) headers.push(`Cc: ${message.cc.join(', ')}`);
  headers.push(`Subject: ${oneLine(message.subject)}`, `Date: ${message.date}`, `Message-ID: ${message.messageId}`);
  return `${headers.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`;
}

/** Builds the server; `runMailServer` connects it to stdio. */
export function createMailServer(outboxDir: string): McpServer {
  const outbox = path.resolve(outboxDir);
  const drafts = path.join(outbox, 'drafts');
  const log = path.join(outbox, 'outbox.jsonl');
  const server = new McpServer({ name: 'gatehouse-demo-mail', version: '1.0.0' });

  server.registerTool(
    'send_email',
    {
      description: `Send an email from ${FROM}. Pass dry_run: true to see what would be sent without sending it.`,
      inputSchema: {
        to: email().describe('Recipient address'),
        subject: z.string().describe('Subject line'),
        body: z.string().describe('Plain-text body'),
        cc: z.array(email()).optional().describe('Copy recipients'),
        dry_run: z.boolean().optional().describe('Only show what would be sent; nothing is written'),
      },
      annotations: { title: 'Send email', readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    ({ to, subject, body, cc = [], dry_run }) => {
      const now = new Date();
      const id = randomBytes(6).toString('hex');
      const header = { from: FROM, to, cc, subject, date: now.toUTCString().replace(/GMT$/, '+0000'), messageId: `<${id}@gatehouse-demo.localhost>` };
      const rendered = renderMessage(header, body);
      if (dry_run) {
        const recipients = [to, ...cc].join(', ');
        return text(`dry run: would send "${oneLine(subject)}" to ${recipients} (nothing written):\n\n${rendered}`, { dry_run: true, ...header, body });
      }
      mkdirSync(outbox, { recursive: true });
      const file = path.join(outbox, `${now.toISOString().replace(/[-:.]/g, '')}-${id}.eml`);
      writeFileSync(file, rendered, { flag: 'wx' });
      const sent: SentMessage = { id, file, ...header };
      appendFileSync(log, `${JSON.stringify(sent)}\n`);
      return text(`sent message ${id} to ${to}`, { id, file });
    },
  );

  server.registerTool(
    'list_outbox',
    {
      description: 'List the messages sent so far, newest first.',
      inputSchema: { limit: z.number().int().min(1).max(1000).optional().describe('At most this many (default 20)') },
      annotations: { title: 'List sent email', readOnlyHint: true, openWorldHint: false },
    },
    ({ limit = 20 }) => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      const messages = lines.map((line) => JSON.parse(line) as SentMessage).reverse().slice(0, limit);
      const summary = messages.map((m) => `${m.date}  ${m.id}  to ${[m.to, ...m.cc].join(', ')}: ${m.subject}`);
      return text(messages.length === 0 ? 'the outbox is empty' : summary.join('\n'), { messages });
    },
  );

  server.registerTool(
    'draft_email',
    {
      description: 'Save an email as a draft (not sent).',
      inputSchema: { to: email().describe('Recipient address'), subject: z.string(), body: z.string() },
      annotations: { title: 'Save draft', readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    ({ to, subject, body }) => {
      const id = randomBytes(6).toString('hex');
      mkdirSync(drafts, { recursive: true });
      const file = path.join(drafts, `${id}.json`);
      writeFileSync(file, `${JSON.stringify({ id, to, subject, body, savedAt: new Date().toISOString() }, null, 2)}\n`, { flag: 'wx' });
      return text(`saved draft ${id} to ${to}`, { id, file });
    },
  );

  server.registerTool(
    'delete_draft',
    {
      description: 'Delete a saved draft.',
      inputSchema: { id: z.string().describe('The id that draft_email returned') },
      annotations: { title: 'Delete draft', readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    ({ id }) => {
      const file = path.join(drafts, `${id}.json`);
      if (!/^[0-9a-f]{12}$/.test(id) || !existsSync(file)) return failure(`no draft with id ${JSON.stringify(id)}`);
      rmSync(file);
      return text(`deleted draft ${id}`, { id });
    },
  );

  return server;
}

/**
 * Serves the demo mail server on stdin/stdout until stdin ends (the client closing the session).
 * `outboxDir` is created on the first write; see the file header for what goes in it.
 */
export async function runMailServer(options: { outboxDir: string }): Promise<void> {
  const server = createMailServer(options.outboxDir);
  const ended = new Promise<void>((resolve) => process.stdin.once('end', resolve));
  await server.connect(new StdioServerTransport());
  await ended;
  await server.close();
}
