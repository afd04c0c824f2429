import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseYaml, toYaml } from '../src/config/yaml.js';
import { generate } from '../src/pipeline/generate/generate.js';
import { CLI, runCli } from './helpers/gatehouse.js';
import { DEFINITION_PATH } from './helpers/pipeline.js';

/** The pipeline's commands on one small DuckDB database, run after run, through the bundled CLI. */
describe('pipeline CLI on one database', () => {
  let work: string;
  let data: string;
  let common: string[];
  const cli = (args: string[]) => {
    const result = runCli([...args, ...common]);
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'gatehouse-pipeline-cli-'));
    data = path.join(work, 'data');
    generate({ rows: 3_000, seed: 3, outDir: data, faultScale: 10 });
    common = ['--definition', DEFINITION_PATH, '--db', path.join(work, 'p.duckdb')];
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('status --run of a run that does not exist is refused, naming the runs there are', () => {
    cli(['pipeline', 'run', '--data', data]);
    cli(['pipeline', 'replay', '--from', 'std']);
    assert.match(cli(['pipeline', 'status', '--run', '2']).stdout, /^run 2: rows per layer$/m);
    for (const json of [[], ['--json']]) {
      const missing = runCli(['pipeline', 'status', '--run', '99', ...json, ...common]);
      assert.equal(missing.status, 1);
      assert.equal(missing.stdout, '', 'no report of a run that is not there');
      assert.equal(missing.stderr, 'error GH_INVALID_ARGUMENTS: run 99 does not exist (runs 1–2)\n');
    }
  });

  test('replay compares every Final table, before and after: none before, or one new, is not byte-identical', () => {
    const dryDb = ['--definition', DEFINITION_PATH, '--db', path.join(work, 'dry.duckdb')];
    assert.equal(runCli(['pipeline', 'run', '--data', data, '--dry-run', ...dryDb]).status, 0);
    const first = runCli(['pipeline', 'replay', '--from', 'stage', ...dryDb]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /\nreplay: no earlier Final to compare with \(this replay published the first\)\n$/);
    assert.match(cli(['pipeline', 'replay', '--from', 'stage']).stdout, /\nreplay: Final tables byte-identical \(content hashes equal\)\n$/);
    // A semantic table (and its contract) added to the definition: its Final table is new.
    const document = parseYaml(readFileSync(DEFINITION_PATH, 'utf8')) as { layers: { semantic: Record<string, string> }; contracts: Record<string, unknown> };
    document.layers.semantic.schools_copy = document.layers.semantic.schools!;
    document.contracts.schools_copy = document.contracts.schools;
    const extended = path.join(work, 'extended.yaml');
    writeFileSync(extended, toYaml(document));
    const replay = runCli(['pipeline', 'replay', '--from', 'enrich', ...common, '--definition', extended]);
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, /\nreplay: Final changed: schools_copy \(new\)\n$/);
  });

  test('a file\'s load counts as CP1252-decoded only the lines decoded, not those in no known encoding', () => {
    const folder = path.join(work, 'encodings');
    mkdirSync(folder);
    generate({ rows: 1_000, seed: 4, outDir: folder, faultScale: 0 });
    for (const name of readdirSync(folder)) if (name !== 'pubschls.txt') rmSync(path.join(folder, name));
    const directory = path.join(folder, 'pubschls.txt');
    const line = readFileSync(directory, 'latin1').split('\n')[1]!;
    // 0x97 is CP1252's em dash; 0x81 is a byte CP1252 leaves undefined (quarantined by A.encoding_valid).
    appendFileSync(directory, Buffer.concat([Buffer.from(line, 'latin1'), Buffer.from([0x97, 0x0a]), Buffer.from(line, 'latin1'), Buffer.from([0x81, 0x0a])]));
    // spawnSync, not runCli: the progress lines are on stderr, and the run succeeds.
    const result = spawnSync(process.execPath, [CLI, 'pipeline', 'run', '--data', folder, '--definition', DEFINITION_PATH, '--db', path.join(work, 'encodings.duckdb')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /raw directory: pubschls\.txt [\d,]+ rows \(1 CP1252 line\(s\) decoded; 1 line\(s\) in no known encoding\)/);
  });

  test('output piped to a reader that stops (| head) ends quietly, exit 0', async () => {
    /** The command with its stdout closed at once, as `| head -0` leaves it: its exit code and its stderr. */
    const closedStdout = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args, ...common], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy();
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
    for (const args of [['pipeline', 'status'], ['pipeline', 'status', '--json'], ['pipeline', 'quarantine', 'list', '--limit', '1000'], ['pipeline', 'replay', '--from', 'semantic']]) {
      const result = await closedStdout(args);
      assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|\n\s+at /, args.join(' '));
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    // The replay went on to its end: published, not left running.
    const runs = (JSON.parse(cli(['pipeline', 'status', '--json']).stdout) as { runs: Array<{ mode: string; status: string }> }).runs;
    assert.deepEqual([runs[0]!.mode, runs[0]!.status], ['replay', 'published']);
  });
});
