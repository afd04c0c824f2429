import type { PinState, PinStatus, PinStore, ToolPin } from '../../ports/pin-store.js';
import type { SqliteDatabase } from './database.js';

interface PinRow {
  server: string;
  tool: string;
  hash: string;
  definition: string;
  pinned_at: string;
  status: PinStatus;
  changed_hash: string | null;
  changed_definition: string | null;
  changed_at: string | null;
  version: number;
}

// Evaluated inside the writing statement, which holds SQLite's write lock: no other process can
// write between reading the maximum and storing it, so the new version is above every other.
const NEXT_VERSION = '(SELECT coalesce(max(version), 0) + 1 FROM tool_pins)';

/**
 * Tool pins in SQLite. Nothing is cached in memory: another process may change a pin at any
 * time, and `version()` (one index lookup) is how a reader learns that it has to look again.
 */
export class SqlitePinStore implements PinStore {
  private readonly statesStmt;
  private readonly getStmt;
  private readonly pinStmt;
  private readonly quarantineStmt;
  private readonly acceptStmt;
  private readonly versionStmt;

  constructor(db: SqliteDatabase) {
    this.statesStmt = db.prepare('SELECT server, tool, hash, status, changed_hash FROM tool_pins ORDER BY server, tool');
    this.getStmt = db.prepare('SELECT * FROM tool_pins WHERE server = ? AND tool = ?');
    this.pinStmt = db.prepare(
      `INSERT INTO tool_pins (server, tool, hash, definition, pinned_at, status, version)
       VALUES (?, ?, ?, ?, ?, 'pinned', ${NEXT_VERSION})
       ON CONFLICT (server, tool) DO NOTHING`,
    );
    // Seeing the same changed definition again is no change: it keeps its first changed_at and
    // does not bump the version (a server relisted on every start would otherwise bump it each time).
    this.quarantineStmt = db.prepare(
      `UPDATE tool_pins SET status = 'quarantined', changed_hash = ?, changed_definition = ?, changed_at = ?, version = ${NEXT_VERSION}
       WHERE server = ? AND tool = ? AND NOT (status = 'quarantined' AND changed_hash = ?)`,
    );
    this.acceptStmt = db.prepare(
      `UPDATE tool_pins SET hash = changed_hash, definition = changed_definition, pinned_at = ?, status = 'pinned',
         changed_hash = NULL, changed_definition = NULL, changed_at = NULL, version = ${NEXT_VERSION}
       WHERE server = ? AND tool = ? AND status = 'quarantined'
       RETURNING *`,
    );
    this.versionStmt = db.prepare('SELECT coalesce(max(version), 0) FROM tool_pins').pluck();
  }

  async states(): Promise<PinState[]> {
    return (this.statesStmt.all() as PinRow[]).map(stateOf);
  }

  async get(server: string, tool: string): Promise<ToolPin | undefined> {
    const row = this.getStmt.get(server, tool) as PinRow | undefined;
    return row && fromRow(row);
  }

  async pin(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void> {
    this.pinStmt.run(server, tool, hash, JSON.stringify(definition), at);
  }

  async quarantine(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void> {
    this.quarantineStmt.run(hash, JSON.stringify(definition), at, server, tool, hash);
  }

  async accept(server: string, tool: string, at: string): Promise<ToolPin | undefined> {
    const row = this.acceptStmt.get(at, server, tool) as PinRow | undefined;
    return row && fromRow(row);
  }

  async version(): Promise<number> {
    return this.versionStmt.get() as number;
  }
}

function fromRow(row: PinRow): ToolPin {
  const pin: ToolPin = {
    server: row.server,
    tool: row.tool,
    hash: row.hash,
    definition: JSON.parse(row.definition),
    pinnedAt: row.pinned_at,
    status: row.status,
  };
  // Absent rather than undefined, so that pins compare equal however they were built.
  if (row.changed_hash !== null) pin.changedHash = row.changed_hash;
  if (row.changed_definition !== null) pin.changedDefinition = JSON.parse(row.changed_definition);
  if (row.changed_at !== null) pin.changedAt = row.changed_at;
  return pin;
}

function stateOf(row: Pick<PinRow, 'server' | 'tool' | 'hash' | 'status' | 'changed_hash'>): PinState {
  const state: PinState = { server: row.server, tool: row.tool, hash: row.hash, status: row.status };
  if (row.changed_hash !== null) state.changedHash = row.changed_hash;
  return state;
}
