import { randomBytes } from 'node:crypto';
import type { Gate } from '../../core/gates.js';
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, ApprovalStore, NewApproval } from '../../ports/approval-store.js';
import type { SqliteDatabase } from './database.js';

interface ApprovalRow {
  id: string;
  status: ApprovalStatus;
  server: string;
  tool: string;
  exposed_name: string;
  arguments: string;
  agent: string;
  profile: string;
  gate: Gate;
  reason: string;
  binding_hash: string;
  policy_version: string;
  requested_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
  grant_expires_at: string | null;
  consumed_at: string | null;
}

/**
 * Approval requests in SQLite. Every transition is one UPDATE whose WHERE clause is the
 * precondition, so that of two processes sharing the file exactly one sees `changes === 1`
 * (or a RETURNING row) and the other is refused.
 */
export class SqliteApprovalStore implements ApprovalStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listAll;
  private readonly listByStatus;
  private readonly decideStmt;
  private readonly consumeStmt;
  private readonly expireStmt;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare(
      `INSERT INTO approvals (id, status, server, tool, exposed_name, arguments, agent, profile, gate, reason,
         binding_hash, policy_version, requested_at, expires_at)
       VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING *`,
    );
    this.getStmt = db.prepare('SELECT * FROM approvals WHERE id = ?');
    // rowid breaks ties between requests made in the same millisecond: the later insert is newer.
    this.listAll = db.prepare('SELECT * FROM approvals ORDER BY requested_at DESC, rowid DESC LIMIT ?');
    this.listByStatus = db.prepare('SELECT * FROM approvals WHERE status = ? ORDER BY requested_at DESC, rowid DESC LIMIT ?');
    this.decideStmt = db.prepare(
      `UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?, grant_expires_at = ?
       WHERE id = ? AND status = 'pending' AND expires_at > ?
       RETURNING *`,
    );
    this.consumeStmt = db.prepare(
      `UPDATE approvals SET status = 'consumed', consumed_at = ?
       WHERE id = ? AND status = 'approved' AND binding_hash = ? AND (grant_expires_at IS NULL OR grant_expires_at > ?)`,
    );
    this.expireStmt = db.prepare(`UPDATE approvals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'`);
  }

  async create(request: NewApproval): Promise<ApprovalRequest> {
    const id = `apr_${randomBytes(8).toString('hex')}`;
    const row = this.insertStmt.get(
      id,
      request.server,
      request.tool,
      request.exposedName,
      JSON.stringify(request.arguments),
      request.agent,
      request.profile,
      request.gate,
      request.reason,
      request.bindingHash,
      request.policyVersion,
      request.requestedAt,
      request.expiresAt,
    ) as ApprovalRow;
    // The stored row rather than the input, so that create() and get() return the same shape.
    return fromRow(row);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const row = this.getStmt.get(id) as ApprovalRow | undefined;
    return row && fromRow(row);
  }

  async list(filter: { status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const limit = filter.limit ?? -1;
    const rows = (filter.status ? this.listByStatus.all(filter.status, limit) : this.listAll.all(limit)) as ApprovalRow[];
    return rows.map(fromRow);
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalRequest | undefined> {
    const row = this.decideStmt.get(
      decision.approved ? 'approved' : 'rejected',
      decision.at,
      decision.by,
      decision.reason ?? null,
      // A rejection grants nothing, so it has no grant expiry either.
      decision.approved ? (decision.grantExpiresAt ?? null) : null,
      id,
      decision.at,
    ) as ApprovalRow | undefined;
    return row && fromRow(row);
  }

  async consume(id: string, bindingHash: string, at: string): Promise<boolean> {
    return this.consumeStmt.run(at, id, bindingHash, at).changes === 1;
  }

  async expire(id: string, at: string): Promise<boolean> {
    return this.expireStmt.run(at, id).changes === 1;
  }
}

function fromRow(row: ApprovalRow): ApprovalRequest {
  const request: ApprovalRequest = {
    id: row.id,
    status: row.status,
    server: row.server,
    tool: row.tool,
    exposedName: row.exposed_name,
    arguments: JSON.parse(row.arguments) as Record<string, unknown>,
    agent: row.agent,
    profile: row.profile,
    gate: row.gate,
    reason: row.reason,
    bindingHash: row.binding_hash,
    policyVersion: row.policy_version,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
  };
  // Absent rather than undefined, so that records compare equal however they were built.
  if (row.decided_at !== null) request.decidedAt = row.decided_at;
  if (row.decided_by !== null) request.decidedBy = row.decided_by;
  if (row.decision_reason !== null) request.decisionReason = row.decision_reason;
  if (row.grant_expires_at !== null) request.grantExpiresAt = row.grant_expires_at;
  if (row.consumed_at !== null) request.consumedAt = row.consumed_at;
  return request;
}
