import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { toYaml } from '../src/config/yaml.js';
import { runCli, tempConfig } from './helpers/gatehouse.js';
import { DEFINITION_PATH } from './helpers/pipeline.js';

/** A refused command: exit 1, one `error GH_…: …` line naming the problem, no stack trace. */
function assertRefused(args: string[], code: string, message: RegExp): void {
  const result = runCli(args);
  assert.equal(result.status, 1, `${args.join(' ')}: ${result.stdout}`);
  assert.match(result.stderr, new RegExp(`^error ${code}: `), args.join(' '));
  assert.match(result.stderr, message, args.join(' '));
  assert.doesNotMatch(result.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
}

describe('bad command-line input', () => {
  test('an option value a command cannot take is refused with GH_INVALID_ARGUMENTS naming the option', () => {
    const cases: Array<[string[], RegExp]> = [
      [['pipeline', 'generate', '--out', 'x', '--rows', '0'], /--rows: "0" is not a whole number of at least 1/],
      // Number() reads these as 16, 1000, 5 and 5; a count is written in digits.
      [['pipeline', 'generate', '--out', 'x', '--rows', '0x10'], /--rows: "0x10" is not a whole number of at least 1/],
      [['pipeline', 'generate', '--out', 'x', '--rows', '1e3'], /--rows: "1e3" is not a whole number of at least 1/],
      [['pipeline', 'generate', '--out', 'x', '--rows', ' 5'], /--rows: " 5" is not a whole number of at least 1/],
      [['pipeline', 'generate', '--out', 'x', '--rows', '5.0'], /--rows: "5\.0" is not a whole number of at least 1/],
      [['pipeline', 'generate', '--out', 'x', '--rows', '1__000'], /--rows: "1__000" is not a whole number of at least 1/],
      [['pipeline', 'generate', '--out', 'x', '--rows', '10', '--fault-scale', 'lots'], /--fault-scale: "lots" is not a number of at least 0/],
      [['pipeline', 'generate', '--out', 'x', '--rows', '10', '--years', '27'], /--years: "27" is not a whole number from 1 to 26/],
      [['pipeline', 'run', '--data', 'x', '--threads', '0'], /--threads: "0" is not a whole number from 1 to 256/],
      [['pipeline', 'run', '--data', 'x', '--memory-limit', 'plenty'], /--memory-limit: "plenty" is not an amount of memory such as 6GB/],
      [['pipeline', 'run', '--data', 'x', '--threads', '99999'], /--threads: "99999" is not a whole number from 1 to 256/],
      [['pipeline', 'status', '--threads', '257'], /--threads: "257" is not a whole number from 1 to 256/],
      [['pipeline', 'run', '--data', 'x', '--memory-limit', '0GB'], /--memory-limit: "0GB" is not an amount of memory such as 6GB or 512MiB, of at least 100MB/],
      [['pipeline', 'run', '--data', 'x', '--memory-limit', '1KB'], /--memory-limit: "1KB" is not an amount of memory .* of at least 100MB/],
      [['pipeline', 'replay', '--from', 'raw', '--memory-limit', '95MiB'], /--memory-limit: "95MiB" is not an amount of memory .* of at least 100MB/],
      [['pipeline', 'run', '--data', 'x', '--engine', 'sqlite'], /--engine: "sqlite" is not one of duckdb, postgres/],
      [['demo-server', 'pipeline', '--definition', DEFINITION_PATH, '--data', 'x', '--engine', 'bogus'], /--engine: "bogus" is not one of duckdb, postgres/],
      [['pipeline', 'replay', '--from', 'final'], /--from: "final" is not one of raw, stage, std, enrich, semantic/],
      [['pipeline', 'quarantine', 'list', '--limit', 'ten'], /--limit: "ten" is not a whole number of at least 1/],
      [['pipeline', 'quarantine', 'list', '--gate', 'E'], /--gate: "E" is not one of A, B, C, D/],
      [['pipeline', 'quarantine', 'list', '--definition', DEFINITION_PATH, '--rule', 'B.strict_null'], /rule "B\.strict_null" is not a check of pipeline "ca_k12" \(its checks: A\.hash_match, .*B\.strict_nulls/],
      [['pipeline', 'quarantine', 'release', '--definition', DEFINITION_PATH, '--rule', 'C.cds_resolve', '--reason', 'r'], /rule "C\.cds_resolve" is not a check of pipeline "ca_k12"/],
      [['pipeline', 'quarantine', 'release', '--id', '4', '--id', 'x', '--reason', 'r'], /--id: "x" is not a whole number of at least 1/],
      [['pipeline', 'quarantine', 'release', '--rule', 'B.types', '--reason', ' '], /--reason: " " is not a reason: it is blank/],
      [['pipeline', 'quarantine', 'list', '--district', '197'], /--district: "197" is not a district key \(7 digits: county 2 \+ district 5/],
      [['pipeline', 'quarantine', 'release', '--rule', 'B.types', '--district', '19-64733', '--reason', 'r'], /--district: "19-64733" is not a district key/],
      [['runs', '--limit', '-3'], /--limit: "-3" is not a whole number of at least 1/],
      [['serve', '--port', '70000'], /--port: "70000" is not a port number \(0 to 65535\)/],
      [['servers', '--stderr', 'all'], /--stderr: "all" is not a whole number \(0 or more\)/],
    ];
    for (const [args, message] of cases) assertRefused(args, 'GH_INVALID_ARGUMENTS', message);
  });

  test('pipeline: a wrong data folder or database is refused, and no database is created for it', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-bad-input-'));
    try {
      const db = path.join(work, 'p.duckdb');
      const common = ['--definition', DEFINITION_PATH, '--db', db];
      const unrelated = path.join(work, 'unrelated');
      mkdirSync(unrelated);
      writeFileSync(path.join(unrelated, 'notes.txt'), 'not a source file\n');
      assertRefused(['pipeline', 'run', '--data', path.join(work, 'missing'), ...common], 'GH_PIPELINE_DATA_MISSING', /the data folder .*missing does not exist/);
      assertRefused(['pipeline', 'run', '--data', path.join(unrelated, 'notes.txt'), ...common], 'GH_PIPELINE_DATA_MISSING', /notes\.txt is not a folder/);
      assertRefused(['pipeline', 'run', '--data', unrelated, ...common], 'GH_PIPELINE_DATA_MISSING', /no file in .*unrelated belongs to a source of pipeline "ca_k12" \(file names it takes: pubschls\.txt, cdenroll\*\.txt/);
      for (const command of [['status'], ['replay', '--from', 'stage'], ['quarantine', 'list'], ['quarantine', 'release', '--rule', 'B.types', '--reason', 'checked']]) {
        assertRefused(['pipeline', ...command, ...common], 'GH_PIPELINE_NOT_LOADED', /no pipeline database at .*p\.duckdb: run `gatehouse pipeline run --data DIR` first/);
      }
      assertRefused(['pipeline', 'generate', '--rows', '100', '--out', path.join(unrelated, 'notes.txt')], 'GH_INVALID_ARGUMENTS', /the output folder .*notes\.txt cannot be made: EEXIST/);
      assert.deepEqual(readdirSync(work).sort(), ['unrelated'], 'nothing was created');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('pipeline: a --db that exists and is not a DuckDB database is refused naming it, before anything runs', () => {
    const work = mkdtempSync(path.join(tmpdir(), 'gatehouse-bad-input-'));
    try {
      const data = path.join(work, 'data');
      mkdirSync(data);
      writeFileSync(path.join(data, 'pubschls.txt'), 'CDSCode\tCounty\n');
      // DuckDB opened a .csv as a throwaway in-memory database: the run said PUBLISHED and kept nothing.
      const csv = path.join(work, 'exist.csv');
      writeFileSync(csv, 'a,b\n1,2\n');
      const empty = path.join(work, 'empty.duckdb');
      writeFileSync(empty, '');
      for (const db of [csv, empty, data]) {
        const common = ['--definition', DEFINITION_PATH, '--db', db];
        const named = new RegExp(`${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} exists and is not a DuckDB database file`);
        assertRefused(['pipeline', 'run', '--data', data, ...common], 'GH_PIPELINE_ENGINE', named);
        assertRefused(['pipeline', 'status', ...common], 'GH_PIPELINE_ENGINE', named);
      }
      assert.equal(readFileSync(csv, 'utf8'), 'a,b\n1,2\n', 'the file is left as it was');
      assert.deepEqual(readdirSync(work).sort(), ['data', 'empty.duckdb', 'exist.csv'], 'nothing was created beside it');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('pipeline: a --pg-url that is not a valid postgres:// URL is refused naming it, its password never shown', () => {
    const cases: Array<[string, RegExp]> = [
      ['postgres://u:s3cret@127.0.0.1:99999/db', /postgres:\/\/u:\*\*\*@127\.0\.0\.1:99999\/db is not a valid URL/],
      ['postgres://u@127.0.0.1:abc/db', /postgres:\/\/u@127\.0\.0\.1:abc\/db is not a valid URL/],
      ['postgres://u:s3cret@[::1', /postgres:\/\/u:\*\*\*@\[::1 is not a valid URL/],
      ['postgresql://u:s3@cret@[::1/db', /postgresql:\/\/u:\*\*\*@\[::1\/db is not a valid URL/],
      ['not-a-url', /not-a-url is not a postgres:\/\/ URL \(expected postgres:\/\/user:password@host:port\/database\)/],
      ['mysql://u:s3cret@localhost/db', /mysql:\/\/u:\*\*\*@localhost\/db is not a postgres:\/\/ URL/],
    ];
    for (const [url, message] of cases) {
      assertRefused(['pipeline', 'status', '--definition', DEFINITION_PATH, '--engine', 'postgres', '--pg-url', url], 'GH_PIPELINE_ENGINE', message);
      const result = runCli(['pipeline', 'status', '--definition', DEFINITION_PATH, '--engine', 'postgres'], { GATEHOUSE_PIPELINE_PG_URL: url });
      assert.match(result.stderr, message, `${url} from the environment`);
      assert.doesNotMatch(result.stderr, /s3cret|cret/, 'the password is never shown');
    }
  });

  test('audit: an export, checkpoint or key file that cannot be read is refused naming it', () => {
    const { dir, configPath, cleanup } = tempConfig({ store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {} });
    try {
      const missing = path.join(dir, 'missing.jsonl');
      assertRefused(['audit', 'verify', '--config', configPath, '--export', missing], 'GH_AUDIT_FILE_INVALID', /missing\.jsonl: cannot read it: ENOENT/);
      assertRefused(['audit', 'verify', '--config', configPath, '--export', dir], 'GH_AUDIT_FILE_INVALID', /cannot read it: EISDIR/);
      assertRefused(['audit', 'verify', '--config', configPath, '--checkpoint', missing], 'GH_AUDIT_FILE_INVALID', /missing\.jsonl: cannot read it: ENOENT/);
      assertRefused(['audit', 'verify', '--config', configPath, '--public-key', path.join(dir, 'missing.pem')], 'GH_AUDIT_KEY_INVALID', /--public-key .*missing\.pem: cannot read it: ENOENT/);
      const notAKey = path.join(dir, 'not-a-key.pem');
      writeFileSync(notAKey, 'hello\n');
      assertRefused(['audit', 'verify', '--config', configPath, '--public-key', notAKey], 'GH_AUDIT_KEY_INVALID', /--public-key .*not-a-key\.pem: not a public key: /);
      const ecKey = path.join(dir, 'p256.pem');
      writeFileSync(ecKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
      assertRefused(['audit', 'verify', '--config', configPath, '--export', notAKey, '--public-key', ecKey], 'GH_AUDIT_KEY_INVALID', /--public-key .*p256\.pem: not an Ed25519 public key \(ec\)/);
    } finally {
      cleanup();
    }
  });

  test('--since: a value that is neither a duration nor a real ISO-8601 date is refused, never read as some other date', () => {
    const { configPath, cleanup } = tempConfig({ store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {} });
    try {
      for (const [command, value] of [[['runs'], '5'], [['runs'], '2024-02-30'], [['audit', 'export'], 'March 7'], [['audit', 'export'], '99999999999d']] as const) {
        assertRefused([...command, '--config', configPath, '--since', value], 'GH_INVALID_ARGUMENTS', new RegExp(`--since: "${value}" is neither an ISO-8601 time nor a duration`));
      }
    } finally {
      cleanup();
    }
  });

  test('a blank --by or --reason is refused before anything is opened, so that no decision is recorded as made by nobody', () => {
    const { dir, configPath, cleanup } = tempConfig({ store: { kind: 'sqlite', path: 'state/gatehouse.db' }, servers: {}, profiles: {} });
    try {
      const cases: Array<[string[], RegExp]> = [
        [['approvals', 'approve', 'ap_1', '--by', ''], /--by: "" is not a name: it is blank/],
        [['approvals', 'reject', 'ap_1', '--reason', ' '], /--reason: " " is not a reason: it is blank/],
        [['review', 'ack', 'rv_1', '--by', '\t'], /--by: "\t" is not a name: it is blank/],
        [['commits', 'resolve', 'k1', '--sent', '--by', ''], /--by: "" is not a name/],
        [['dlq', 'drop', 'dl_1', '--reason', '', '--by', 'ops'], /--reason: "" is not a reason/],
        [['dlq', 'drop', 'dl_1', '--reason', 'gone', '--by', '  '], /--by: " {2}" is not a name/],
        [['dlq', 'retry', 'dl_1', '--by', ''], /--by: "" is not a name/],
        [['tools', 'accept', 'srv/tool', '--by', ''], /--by: "" is not a name/],
        [['audit', 'prune', '--by', ''], /--by: "" is not a name/],
      ];
      for (const [args, message] of cases) assertRefused([...args, '--config', configPath], 'GH_INVALID_ARGUMENTS', message);
      assert.deepEqual(readdirSync(dir), ['gatehouse.yaml'], 'no store was created');
    } finally {
      cleanup();
    }
  });

  test('index: a --server the config does not have is refused before anything opens, listing the servers', () => {
    const { dir, configPath, cleanup } = tempConfig({
      store: { kind: 'sqlite', path: 'state/gatehouse.db' },
      servers: { alpha: { command: 'node', args: ['-e', ''] }, beta: { command: 'node', args: ['-e', ''] } },
      profiles: {},
    });
    try {
      assertRefused(['index', '--config', configPath, '--server', 'alpha', 'gamma', 'delta'], 'GH_INVALID_ARGUMENTS', /--server: no server "gamma", "delta" in .*gatehouse\.yaml \(servers: alpha, beta\)/);
      assert.deepEqual(readdirSync(dir), ['gatehouse.yaml'], 'no store was created');
    } finally {
      cleanup();
    }
  });

  test('index: a --snapshot-dir that is not a folder, or a file there that is not a snapshot, is refused naming it before anything opens', () => {
    const { dir, configPath, cleanup } = tempConfig({
      store: { kind: 'sqlite', path: 'state/gatehouse.db' },
      servers: { alpha: { command: 'node', args: ['-e', ''] }, beta: { command: 'node', args: ['-e', ''] } },
      profiles: {},
    });
    try {
      const index = (snapshotDir: string) => ['index', '--config', configPath, '--snapshot-dir', snapshotDir];
      assertRefused(index(path.join(dir, 'missing')), 'GH_INVALID_ARGUMENTS', /--snapshot-dir: ".*missing" cannot be used: ENOENT/);
      assertRefused(index(configPath), 'GH_INVALID_ARGUMENTS', /--snapshot-dir: ".*gatehouse\.yaml" is not a folder/);
      const snapshots = path.join(dir, 'snapshots');
      mkdirSync(snapshots);
      writeFileSync(path.join(snapshots, 'alpha.json'), '{tools: []}');
      assertRefused(index(snapshots), 'GH_CONFIG_INVALID', /^error GH_CONFIG_INVALID: .*snapshots\/alpha\.json: not JSON \(/);
      writeFileSync(path.join(snapshots, 'beta.json'), 'null');
      assertRefused(index(snapshots), 'GH_CONFIG_INVALID', /2 snapshot files cannot be used:\n {2}.*alpha\.json: not JSON .*\n {2}.*beta\.json: not a snapshot: expected a tools\/list "tools" array/);
      writeFileSync(path.join(snapshots, 'alpha.json'), '{"tools": {"name": "a"}}');
      assertRefused(index(snapshots), 'GH_CONFIG_INVALID', /alpha\.json: not a snapshot/);
      assert.deepEqual(readdirSync(dir).sort(), ['gatehouse.yaml', 'snapshots'], 'no store was created');
    } finally {
      cleanup();
    }
  });

  test('a SQLite store that cannot be created, or is another application\'s database, is GH_STORE_UNAVAILABLE naming the file', () => {
    // store.path inside a regular file: its folder cannot be made.
    const { dir, configPath, cleanup } = tempConfig({ store: { kind: 'sqlite', path: 'not-a-folder/gatehouse.db' }, servers: {}, profiles: {} });
    try {
      writeFileSync(path.join(dir, 'not-a-folder'), 'a file\n');
      assertRefused(['runs', '--config', configPath], 'GH_STORE_UNAVAILABLE', /SQLite store .*not-a-folder\/gatehouse\.db: .*\(check store\.path in the config\)/);
      // store.path naming another application's database: its own `events` table stops migration 001.
      const other = new Database(path.join(dir, 'other.db'));
      other.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT)');
      other.close();
      writeFileSync(configPath, toYaml({ store: { kind: 'sqlite', path: 'other.db' }, servers: {}, profiles: {} }));
      assertRefused(['runs', '--config', configPath], 'GH_STORE_UNAVAILABLE', /SQLite store .*other\.db: migration 001_init\.sql failed: table events already exists \(is store\.path the file of another application\?\)/);
    } finally {
      cleanup();
    }
  });
});
