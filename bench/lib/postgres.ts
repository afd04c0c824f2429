import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { assertLoopbackOnly, freePort } from './ports.js';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster on a loopback port, for tests and benchmarks. */
export interface PostgresCluster {
  port: number;
  /** The server's major version, e.g. 15. */
  version: number;
  /** Connection string of a database on this cluster (user postgres, no password: trust on loopback). */
  url(database: string): string;
  /** Creates an empty database and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  /** Runs one statement as the superuser, on the `postgres` database. */
  sql(statement: string): Promise<void>;
  /** Stops the server (immediate) and deletes its folder. */
  stop(): Promise<void>;
}

/**
 * Finds initdb and pg_ctl: on PATH, else in the newest /usr/lib/postgresql/N/bin (Debian and
 * Ubuntu install them there and put only wrappers, or nothing, on PATH). Throws when there are
 * none: a test that needs PostgreSQL must fail, not skip, where it is missing.
 */
export function postgresBinaries(): { initdb: string; pgCtl: string } {
  const onPath = (name: string) =>
    (process.env.PATH ?? '')
      .split(path.delimiter)
      .map((dir) => path.join(dir, name))
      .find((file) => existsSync(file));
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { initdb, pgCtl };
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = path.join(root, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return { initdb: path.join(bin, 'initdb'), pgCtl: path.join(bin, 'pg_ctl') };
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin: install PostgreSQL 15 (e.g. apt-get install postgresql-15)');
}

/** A cluster's folder in the temp folder, and the file in it naming the process that started it. */
const CLUSTER_PREFIX = 'gatehouse-pg-';
const OWNER_FILE = 'started-by.pid';

/**
 * Stops and deletes the clusters whose starting process is gone (a test file killed before its
 * after-hook ran): left alone, each keeps a server running until the machine restarts. A folder
 * without an owner file (another kind, or an older cluster) is not touched, nor is a live one's.
 */
async function stopOrphanedClusters(stop: (data: string) => Promise<unknown>): Promise<void> {
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(CLUSTER_PREFIX))) {
    const dir = path.join(tmpdir(), name);
    let pid: number;
    try {
      pid = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(pid) || pid <= 0 || processExists(pid)) continue;
    await stop(path.join(dir, 'data')).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * initdb + pg_ctl start in a fresh temp folder, listening on 127.0.0.1 only, on a free port,
 * its socket in that folder. initdb refuses to run as root, so as root the cluster belongs to
 * the `postgres` user (runuser). `durable: false` turns fsync off, for tests that do not
 * measure or kill anything.
 */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const { initdb, pgCtl } = postgresBinaries();
  const asRoot = userInfo().uid === 0;
  const as = async (file: string, args: string[]) => {
    const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      return await run(command, argv, { encoding: 'utf8', timeout: 60_000 });
    } catch (error) {
      const failed = error as Error & { stderr?: string };
      throw new Error(`${path.basename(file)} ${args[0] ?? ''} failed: ${failed.message}\n${failed.stderr ?? ''}`, { cause: error });
    }
  };
  await stopOrphanedClusters((data) => as(pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w']));
  const dir = mkdtempSync(path.join(tmpdir(), CLUSTER_PREFIX));
  writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const data = path.join(dir, 'data');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'], { encoding: 'utf8' }).catch(() => {
      throw new Error('running as root, and there is no "postgres" user to own the cluster (initdb refuses root)');
    });
    const { stdout: gid } = await run('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  try {
    await as(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const settings = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c max_connections=200',
      ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ];
    await as(pgCtl, ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'server.log'), '-o', settings.join(' ')]);
  } catch (error) {
    const log = existsSync(path.join(dir, 'server.log')) ? readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}${log ? `\nserver log:\n${log}` : ''}`, { cause: error });
  }
  assertLoopbackOnly(port);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  const version = Number((await admin.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num) / 10_000;
  return {
    port,
    version: Math.floor(version),
    url,
    async createDatabase(name) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return url(name);
    },
    async sql(statement) {
      await admin.query(statement);
    },
    async stop() {
      await admin.end().catch(() => undefined);
      await as(pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
