import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAllowlist, allowsServer } from '../src/core/allowlist.js';
import { exposedName, exposedUri, splitExposedName, splitExposedUri } from '../src/core/naming.js';
import { splitWords, ToolSearchIndex } from '../src/core/tool-search.js';
import { originCheck } from '../src/transports/origin-check.js';

describe('core rules', () => {
  test('allowlist globs match server/tool, * never crosses the slash', () => {
    const allows = compileAllowlist(['everything/*', 'filesystem/read_*', 'mem?ry/open_nodes']);
    assert.ok(allows('everything', 'echo'));
    assert.ok(allows('filesystem', 'read_text_file'));
    assert.ok(!allows('filesystem', 'write_file'));
    assert.ok(allows('memory', 'open_nodes'));
    assert.ok(!allows('memory', 'read_graph'));
    assert.ok(!allows('everything2', 'echo'));
    assert.ok(!compileAllowlist(['every*'])('everything', 'echo'), 'a pattern without a slash matches nothing');
    assert.ok(allowsServer(['files*/read_*'], 'filesystem'));
    assert.ok(!allowsServer(['files*/read_*'], 'memory'));
    assert.ok(!compileAllowlist(['a.b/*'])('axb', 'x'), 'dots are literal');
  });

  test('exposed names and URIs round-trip', () => {
    assert.equal(exposedName('github', 'create_issue'), 'github__create_issue');
    assert.deepEqual(splitExposedName('github__create__issue'), { server: 'github', name: 'create__issue' });
    assert.equal(splitExposedName('nounderscore'), undefined);
    assert.equal(splitExposedName('__x'), undefined);
    assert.equal(splitExposedName('github__'), undefined, 'a server with no tool name is no name');
    assert.deepEqual(splitExposedUri(exposedUri('everything', 'demo://resource/1')), { server: 'everything', uri: 'demo://resource/1' });
    assert.equal(splitExposedUri('demo://resource/1'), undefined);
    assert.equal(splitExposedUri('everything+'), undefined, 'a server with no URI is no URI');
  });

  test('tool search ranks by name and description and splits snake and camel case', () => {
    assert.deepEqual(splitWords('readTextFile read_multiple_files'), ['read', 'Text', 'File', 'read', 'multiple', 'files']);
    const index = new ToolSearchIndex([
      { name: 'fs__read_text_file', server: 'fs', description: 'Read the complete contents of a file as text.' },
      { name: 'fs__write_file', server: 'fs', description: 'Create a new file or overwrite an existing one.' },
      { name: 'gh__create_issue', server: 'gh', description: 'Create a new issue in a GitHub repository.' },
      { name: 'slack__post_message', server: 'slack', description: 'Post a new message to a Slack channel.' },
    ]);
    assert.equal(index.search('read file', 3)[0]!.name, 'fs__read_text_file');
    assert.equal(index.search('open a github issue', 3)[0]!.name, 'gh__create_issue');
    assert.equal(index.search('send a message to slack', 3)[0]!.name, 'slack__post_message');
    assert.equal(index.search('issues', 1)[0]!.name, 'gh__create_issue', 'plural meets singular');
    assert.deepEqual(index.search('zebra', 3), []);
    assert.equal(index.search('file', 1).length, 1, 'limit is respected');
    assert.ok(index.search('read file', 1)[0]!.summary.length <= 160);
  });

  test('a tool summary is its first sentence, cut to 160 characters with an ellipsis', () => {
    const long = `Reads ${'many '.repeat(60)}records without ever ending its sentence`;
    const index = new ToolSearchIndex([
      { name: 'db__read', server: 'db', description: long },
      { name: 'db__ping', server: 'db', description: 'Checks the database.  Then says pong.' },
    ]);
    const summary = index.search('read', 1)[0]!.summary;
    assert.equal(summary.length, 160);
    assert.ok(summary.endsWith('…'));
    assert.ok(long.startsWith(summary.slice(0, -1)), 'the cut keeps the start of the text');
    assert.equal(index.search('ping', 1)[0]!.summary, 'Checks the database.');
  });

  test('Host and Origin checks accept loopback on the bound port only', () => {
    const loopback = originCheck('127.0.0.1', 7700, [], []);
    assert.ok(loopback.hostAllowed('127.0.0.1:7700'));
    assert.ok(loopback.hostAllowed('LOCALHOST:7700'));
    assert.ok(!loopback.hostAllowed('evil.example:7700'));
    assert.ok(!loopback.hostAllowed('localhost:7701'));
    assert.ok(!loopback.hostAllowed('localhost'));
    assert.ok(!loopback.hostAllowed(undefined));
    assert.ok(originCheck('0.0.0.0', 7700, ['gw.internal:7700'], []).hostAllowed('gw.internal:7700'));
    assert.ok(originCheck('::1', 7700, [], []).hostAllowed('[::1]:7700'));
    assert.ok(originCheck('127.0.0.1', 80, [], []).hostAllowed('localhost'));
    assert.ok(loopback.originAllowed(undefined));
    assert.ok(loopback.originAllowed('http://localhost:7700'));
    assert.ok(!loopback.originAllowed('http://evil.example'));
    assert.ok(!loopback.originAllowed('http://localhost:7700.evil.example'));
    assert.ok(originCheck('127.0.0.1', 7700, [], ['https://app.example']).originAllowed('https://APP.example'));
    // Bound to an address of the LAN: clients name the gateway by it.
    assert.ok(originCheck('192.168.1.5', 7700, [], []).hostAllowed('192.168.1.5:7700'));
    assert.ok(originCheck('fd00::5', 7700, [], []).hostAllowed('[fd00::5]:7700'));
    assert.ok(!originCheck('fd00::5', 7700, [], []).hostAllowed('fd00::5:7700'));
    assert.ok(originCheck('0.0.0.0', 7700, ['GW.Internal:7700'], []).hostAllowed('gw.internal:7700'), 'configured hosts match in any case');
    assert.ok(originCheck('127.0.0.1', 80, [], []).originAllowed('http://localhost'), 'port 80 is left out of an Origin');
  });
});
