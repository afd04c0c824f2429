import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PACKAGE_ROOT } from '../../config/load.js';
import { GatehouseError } from '../../core/errors.js';
import type { Durability } from '../../ports/event-store.js';

const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'postgres');

/**
 * Advisory locks, as (space, key) pairs: the space ("Gate" in ASCII) keeps them apart from
 * other applications' locks on the same database. Migrations take a session lock; the event
 * chain and pin writes take transaction locks (`SELECT pg_advisory_xact_lock($1, $2)`).
 */
export const LOCK_SPACE = 0x47617465;
export const LOCKS = { migrations: 1, eventChain: 2, pins: 3, runsProjection: 4 } as const;

type Listener = (payload: string) => void;

/** A row as the driver returns it: bigint columns arrive as strings (they may exceed 2^53; a seq never will). */
export type BigintAsString<T, K extends keyof T> = Omit<T, K> & Record<K, string>;

/** The chain fields of an event, named as ChainedEvent names them. */
export const CHAIN_COLUMNS = 'seq, type, at, agent, profile, server, tool, payload, prev_hash AS "prevHash", hash';

/**
 * A PostgreSQL store shared by any number of gateway processes: a connection pool for the
 * adapters, and one extra connection, opened on first use, that LISTENs for notifications
 * (approval decisions). Migrations are applied once, under an advisory lock, when it opens.
 */
export class PostgresDatabase {
  private readonly listeners = new Map<string, Set<Listener>>();
  private listener: pg.Client | undefined;
  private connectingListener: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  /** Connects, migrates, and returns the open database; GH_STORE_UNAVAILABLE when it cannot. */
  static async open(url: string, options: { poolSize?: number; durability?: Durability } = {}): Promise<PostgresDatabase> {
    // Set on every connection, whatever the server's or the database's default: `on`, a commit
    // returns once its WAL is flushed to disk; `off`, once it is in the server's memory (it survives
    // the gateway, not the server's crash: the last ~3 × wal_writer_delay of commits can be lost).
    const synchronousCommit = (options.durability ?? 'power') === 'power' ? 'on' : 'off';
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, options: `-c synchronous_commit=${synchronousCommit}` });
    // An idle connection that the server drops must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new GatehouseError('GH_STORE_UNAVAILABLE', `PostgreSQL store ${redact(url)}: ${(error as Error).message}`, { store: redact(url) }, { cause: error });
    }
    return new PostgresDatabase(pool, url);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Runs `body` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.unavailable(error);
    }
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.unavailable(error);
    } finally {
      client.release();
    }
  }

  /**
   * A lost or refused connection becomes GH_STORE_UNAVAILABLE (the call path would otherwise
   * report a network error as the downstream server's); an error the server raised about the
   * statement (a constraint, a trigger) stays as it is.
   */
  private unavailable(error: unknown): unknown {
    if (error instanceof GatehouseError) return error;
    if (error instanceof pg.DatabaseError && !/^(08|53|57)/.test(error.code ?? '')) return error;
    return new GatehouseError('GH_STORE_UNAVAILABLE', `PostgreSQL store ${redact(this.url)}: ${(error as Error).message}`, { store: redact(this.url) }, { cause: error });
  }

  /**
   * Calls `onPayload` for every NOTIFY on `channel`, from any process; resolves once this
   * process is listening. A lost listening connection is reopened a second later (what was
   * notified meanwhile is missed: listeners must also poll, slowly).
   */
  async listen(channel: string, onPayload: Listener): Promise<void> {
    const set = this.listeners.get(channel) ?? new Set();
    const first = set.size === 0;
    set.add(onPayload);
    this.listeners.set(channel, set);
    await this.connectListener();
    if (first && this.listener) await this.listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }

  /** Closes the pool and the listening connection; closing again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    await this.connectingListener?.catch(() => undefined);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  private connectListener(): Promise<void> {
    if (this.listener) return Promise.resolve();
    this.connectingListener ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', (message) => {
        for (const onPayload of this.listeners.get(message.channel) ?? []) onPayload(message.payload ?? '');
      });
      client.on('error', () => this.dropListener(client));
      client.on('end', () => this.dropListener(client));
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.listener = client;
    })().finally(() => {
      this.connectingListener = undefined;
    });
    return this.connectingListener;
  }

  private dropListener(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    void client.end().catch(() => undefined);
    this.reopenListener();
  }

  /**
   * Tries again every second until the listening connection is back. (A failed attempt used to
   * end the retries: its error went to dropListener, which ignores a client that is not the
   * listener, so after a database restart of more than a second nothing listened again.)
   */
  private reopenListener(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => void this.connectListener().catch(() => this.reopenListener()), 1_000).unref();
  }
}

/**
 * Applies every numbered file of migrations/postgres not yet in the migrations table, each in
 * its own transaction, under a session advisory lock: two processes starting together apply
 * each migration once, and the second waits until the first is done.
 */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, LOCKS.migrations]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)');
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM migrations')).rows.map((row) => row.version));
      const files = readdirSync(MIGRATIONS_DIR).filter((file) => /^\d+_.+\.sql$/.test(file)).sort();
      for (const file of files) {
        const version = Number.parseInt(file, 10);
        if (applied.has(version)) continue;
        const sql = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO migrations (version, name, applied_at) VALUES ($1, $2, now())', [version, file]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, LOCKS.migrations]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** A connection string fit for messages: the password replaced. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password=)[^\s&]*/i, '$1***');
}
