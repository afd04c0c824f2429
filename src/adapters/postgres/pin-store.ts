import type { PinState, PinStatus, PinStore, ToolPin } from '../../ports/pin-store.js';
import { LOCK_SPACE, LOCKS, type PostgresDatabase } from './database.js';

interface PinRow {
  server: string;
  tool: string;
  hash: string;
  definition: unknown;
  pinned_at: Date;
  status: PinStatus;
  changed_hash: string | null;
  changed_definition: unknown;
  changed_at: Date | null;
  version: string;
}

// Evaluated after the pins lock is taken (a statement of its own, so that this one's snapshot
// sees every write committed before): the new version is above every committed one, and
// versions grow in commit order, which is what lets a reader trust max(version).
const NEXT_VERSION = '(SELECT coalesce(max(version), 0) + 1 FROM tool_pins)';

/**
 * Tool pins in PostgreSQL. Nothing is cached here: another gateway may change a pin at any
 * time, and `version()` (one index lookup) is how a reader learns that it has to look again.
 */
export class PostgresPinStore implements PinStore {
  constructor(private readonly db: PostgresDatabase) {}

  async states(): Promise<PinState[]> {
    const { rows } = await this.db.query<PinRow>('SELECT server, tool, hash, status, changed_hash FROM tool_pins ORDER BY server, tool');
    return rows.map(stateOf);
  }

  async get(server: string, tool: string): Promise<ToolPin | undefined> {
    const { rows } = await this.db.query<PinRow>('SELECT * FROM tool_pins WHERE server = $1 AND tool = $2', [server, tool]);
    return rows[0] && fromRow(rows[0]);
  }

  async pin(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void> {
    await this.write(
      `INSERT INTO tool_pins (server, tool, hash, definition, pinned_at, status, version)
       VALUES ($1, $2, $3, $4, $5, 'pinned', ${NEXT_VERSION})
       ON CONFLICT (server, tool) DO NOTHING`,
      [server, tool, hash, JSON.stringify(definition), at],
    );
  }

  async quarantine(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void> {
    // Seeing the same changed definition again is no change: it keeps its first changed_at and
    // does not bump the version (a server relisted on every start would otherwise bump it each time).
    await this.write(
      `UPDATE tool_pins SET status = 'quarantined', changed_hash = $1, changed_definition = $2, changed_at = $3, version = ${NEXT_VERSION}
       WHERE server = $4 AND tool = $5 AND NOT (status = 'quarantined' AND changed_hash = $1)`,
      [hash, JSON.stringify(definition), at, server, tool],
    );
  }

  async accept(server: string, tool: string, at: string): Promise<ToolPin | undefined> {
    const rows = await this.write(
      `UPDATE tool_pins SET hash = changed_hash, definition = changed_definition, pinned_at = $1, status = 'pinned',
         changed_hash = NULL, changed_definition = NULL, changed_at = NULL, version = ${NEXT_VERSION}
       WHERE server = $2 AND tool = $3 AND status = 'quarantined'
       RETURNING *`,
      [at, server, tool],
    );
    return rows[0] && fromRow(rows[0]);
  }

  async version(): Promise<number> {
    const { rows } = await this.db.query<{ version: string }>('SELECT coalesce(max(version), 0) AS version FROM tool_pins');
    return Number(rows[0]!.version);
  }

  /** One write under the pins lock, so that no two writers compute the same next version. */
  private write(sql: string, values: unknown[]): Promise<PinRow[]> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, LOCKS.pins]);
      return (await client.query<PinRow>(sql, values)).rows;
    });
  }
}

function fromRow(row: PinRow): ToolPin {
  const pin: ToolPin = {
    server: row.server,
    tool: row.tool,
    hash: row.hash,
    definition: row.definition,
    pinnedAt: row.pinned_at.toISOString(),
    status: row.status,
  };
  // Absent rather than undefined, so that pins compare equal however they were built.
  if (row.changed_hash !== null) pin.changedHash = row.changed_hash;
  if (row.changed_definition !== null) pin.changedDefinition = row.changed_definition;
  if (row.changed_at !== null) pin.changedAt = row.changed_at.toISOString();
  return pin;
}

function stateOf(row: Pick<PinRow, 'server' | 'tool' | 'hash' | 'status' | 'changed_hash'>): PinState {
  const state: PinState = { server: row.server, tool: row.tool, hash: row.hash, status: row.status };
  if (row.changed_hash !== null) state.changedHash = row.changed_hash;
  return state;
}
