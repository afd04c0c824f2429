import { randomBytes } from 'node:crypto';
import type { Gate } from '../../core/gates.js';
import type { ApprovalDecision, ApprovalRequest, ApprovalStatus, ApprovalStore, NewApproval } from '../../ports/approval-store.js';
import type { PostgresDatabase } from './database.js';

interface ApprovalRow {
  id: string;
  status: ApprovalStatus;
  server: string;
  tool: string;
  exposed_name: string;
  arguments: Record<string, unknown>;
  agent: string;
  profile: string;
  gate: Gate;
  reason: string;
  binding_hash: string;
  policy_version: string;
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision_reason: string | null;
  grant_expires_at: Date | null;
  consumed_at: Date | null;
}

/** The channel the approvals_decided trigger notifies, with the request id as payload. */
const DECIDED_CHANNEL = 'gatehouse_approval_decided';

/**
 * Approval requests in PostgreSQL. Every transition is one UPDATE whose WHERE clause is the
 * precondition: of two gateways racing, the row lock lets one through and the other finds
 * the precondition false. A request leaving `pending` is notified to every process (trigger
 * approvals_decided), so that waiters anywhere wake at once.
 */
export class PostgresApprovalStore implements ApprovalStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(request: NewApproval): Promise<ApprovalRequest> {
    const id = `apr_${randomBytes(8).toString('hex')}`;
    const { rows } = await this.db.query<ApprovalRow>(
      `INSERT INTO approvals (id, status, server, tool, exposed_name, arguments, agent, profile, gate, reason,
         binding_hash, policy_version, requested_at, expires_at)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING *`,
      [
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
      ],
    );
    return fromRow(rows[0]!);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const { rows } = await this.db.query<ApprovalRow>('SELECT * FROM approvals WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(filter: { status?: ApprovalStatus; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const { rows } = await this.db.query<ApprovalRow>(
      'SELECT * FROM approvals WHERE ($1::text IS NULL OR status = $1) ORDER BY requested_at DESC, ord DESC LIMIT $2',
      [filter.status ?? null, filter.limit ?? null],
    );
    return rows.map(fromRow);
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalRequest | undefined> {
    const { rows } = await this.db.query<ApprovalRow>(
      `UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decision_reason = $4, grant_expires_at = $5
       WHERE id = $6 AND status = 'pending' AND expires_at > $2
       RETURNING *`,
      [
        decision.approved ? 'approved' : 'rejected',
        decision.at,
        decision.by,
        decision.reason ?? null,
        // A rejection grants nothing, so it has no grant expiry either.
        decision.approved ? (decision.grantExpiresAt ?? null) : null,
        id,
      ],
    );
    return rows[0] && fromRow(rows[0]);
  }

  async consume(id: string, bindingHash: string, at: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE approvals SET status = 'consumed', consumed_at = $1
       WHERE id = $2 AND status = 'approved' AND binding_hash = $3 AND (grant_expires_at IS NULL OR grant_expires_at > $1)`,
      [at, id, bindingHash],
    );
    return rowCount === 1;
  }

  async expire(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`UPDATE approvals SET status = 'expired', decided_at = $1 WHERE id = $2 AND status = 'pending'`, [at, id]);
    return rowCount === 1;
  }

  /** LISTEN for requests leaving `pending` in any process (NOTIFY is sent when the deciding transaction commits). */
  watchDecisions(onDecided: (id: string) => void): Promise<void> {
    return this.db.listen(DECIDED_CHANNEL, onDecided);
  }
}

function fromRow(row: ApprovalRow): ApprovalRequest {
  const request: ApprovalRequest = {
    id: row.id,
    status: row.status,
    server: row.server,
    tool: row.tool,
    exposedName: row.exposed_name,
    arguments: row.arguments,
    agent: row.agent,
    profile: row.profile,
    gate: row.gate,
    reason: row.reason,
    bindingHash: row.binding_hash,
    policyVersion: row.policy_version,
    requestedAt: row.requested_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
  // Absent rather than undefined, so that records compare equal however they were built.
  if (row.decided_at !== null) request.decidedAt = row.decided_at.toISOString();
  if (row.decided_by !== null) request.decidedBy = row.decided_by;
  if (row.decision_reason !== null) request.decisionReason = row.decision_reason;
  if (row.grant_expires_at !== null) request.grantExpiresAt = row.grant_expires_at.toISOString();
  if (row.consumed_at !== null) request.consumedAt = row.consumed_at.toISOString();
  return request;
}
