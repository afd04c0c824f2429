import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml, toYaml } from '../src/config/yaml.js';
import { httpClient, REPO, runCli, startServe, tempConfig, text, TOKENS } from './helpers/gatehouse.js';

/**
 * The example config, moved into a temp folder (its store, outbox and tokens there), so that
 * the flow a new user sees is the one tested: every gate G0–G3 present, and an email sent
 * through preflight, approval and confirm.
 */
function exampleInTemp(): ReturnType<typeof tempConfig> & { outbox: string } {
  const example = parseYaml(readFileSync(path.join(REPO, 'examples/gatehouse.yaml'), 'utf8')) as {
    root: string;
    store: unknown;
    servers: { memory: { env: Record<string, string> }; mail: { args: string[] } };
    agents: unknown;
    operators: unknown;
  };
  const temp = tempConfig({});
  const outbox = path.join(temp.dir, 'outbox');
  example.root = REPO;
  example.store = { kind: 'sqlite', path: path.join(temp.dir, 'state/gatehouse.db') };
  example.servers.memory.env.MEMORY_FILE_PATH = path.join(temp.dir, 'memory.jsonl');
  example.servers.mail.args = example.servers.mail.args.map((arg) => (arg === '.gatehouse/outbox' ? outbox : arg));
  example.agents = { claude: { profiles: ['builder', 'research'], tokenEnv: 'TEST_TOKEN_ALICE' } };
  example.operators = { admin: { tokenEnv: 'TEST_OPERATOR_TOKEN' } };
  writeFileSync(temp.configPath, toYaml(example));
  return { ...temp, outbox };
}

test('the example config shows every gate, and its demo mail server sends only after preflight, approval and confirm', async () => {
  const temp = exampleInTemp();
  try {
    const indexed = runCli(['index', '--config', temp.configPath]);
    assert.equal(indexed.status, 0, indexed.stderr);
    const listed = runCli(['tools', '--json', '--config', temp.configPath]);
    const rows = (JSON.parse(listed.stdout) as { tools: Array<{ tool: string; gate: string; source: string }> }).tools;
    const gateOf = (tool: string) => rows.find((row) => row.tool === tool)?.gate;
    assert.deepEqual(
      ['mail/list_outbox', 'mail/draft_email', 'mail/delete_draft', 'mail/send_email'].map(gateOf),
      ['G0', 'G1', 'G2', 'G3'],
    );
    assert.equal(gateOf('filesystem/write_file'), 'G2', 'G1 default raised by destructiveHint');
    assert.equal(gateOf('memory/create_entities'), 'G1');
    assert.equal(gateOf('everything/echo'), 'G0');
    assert.deepEqual(['pipeline/pipeline_status', 'pipeline/list_quarantine', 'pipeline/run_pipeline', 'pipeline/release_quarantined'].map(gateOf), ['G0', 'G0', 'G2', 'G2']);

    const gateway = await startServe(temp.configPath, { TEST_OPERATOR_TOKEN: 'op-token-0123456789' });
    try {
      const claude = await httpClient(gateway.url, 'builder', TOKENS.alice);
      const args = { to: 'ada@example.com', subject: 'Hello', body: 'Sent through Gatehouse.' };
      const preflight = (await claude.callTool({ name: 'mail__send_email', arguments: args })) as {
        _meta?: { gatehouse?: { code: string; data: { plan: { toolDryRun: unknown }; confirmToken: string; approvalId: string } } };
      };
      const held = preflight._meta!.gatehouse!;
      assert.equal(held.code, 'GH_CONFIRM_REQUIRED');
      assert.match(JSON.stringify(held.data.plan.toolDryRun), /dry run: would send/);
      assert.ok(!existsSync(temp.outbox) || readdirSync(temp.outbox).length === 0, 'nothing sent yet');

      const confirming = claude.callTool({ name: 'mail__send_email', arguments: { ...args, confirm: 'SEND', confirm_token: held.data.confirmToken } });
      const approve = runCli(['approvals', 'approve', held.data.approvalId, '--by', 'ada', '--config', temp.configPath]);
      assert.equal(approve.status, 0, approve.stderr);
      const sent = await confirming;
      assert.match(text(sent), /^sent message \S+ to ada@example.com$/);
      const emails = readdirSync(temp.outbox).filter((name) => name.endsWith('.eml'));
      assert.equal(emails.length, 1);
      assert.match(readFileSync(path.join(temp.outbox, emails[0]!), 'utf8'), /Subject: Hello/);
      await claude.close();
    } finally {
      await gateway.stop();
    }
  } finally {
    temp.cleanup();
  }
});
