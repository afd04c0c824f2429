import type { Gate } from '../core/gates.js';

/**
 * pending → approved | rejected | expired; approved → consumed (the grant was used once).
 * An approved grant that was never used stays `approved` past `grantExpiresAt` and is then
 * simply unusable.
 */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'consumed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** What a G2/G3 call asks a human to decide. */
export interface NewApproval {
  server: string;
  tool: string;
  /** The name the agent used (`server__tool`), so that operators see what the agent saw. */
  exposedName: string;
  arguments: Record<string, unknown>;
  agent: string;
  profile: string;
  gate: Gate;
  /** Why the call needs a human, e.g. "gate G2 (config servers.crm.tools.update_*)". */
  reason: string;
  /** RFC 8785 hash of (tool, arguments, agent, profile, policy version): what the grant is bound to. */
  bindingHash: string;
  policyVersion: string;
  requestedAt: string;
  /** After this the request can no longer be decided (the waiting call has been denied). */
  expiresAt: string;
}

export interface ApprovalRequest extends NewApproval {
  id: string;
  status: ApprovalStatus;
  /** When the request left `pending`: decided, or (for `expired`) when `expire` was called. */
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  /** An approved grant must be used before this time. */
  grantExpiresAt?: string;
  consumedAt?: string;
}

export interface ApprovalDecision {
  approved: boolean;
  by: string;
  reason?: string;
  at: string;
  /** Set for approvals: until when the single-use grant may be used. */
  grantExpiresAt?: string;
}

/** Approval requests and their single-use grants. Every state change is a compare-and-set. */
export interface ApprovalStore {
  create(request: NewApproval): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Newest first by `requestedAt`. */
  list(filter?: { status?: ApprovalStatus; limit?: number }): Promise<ApprovalRequest[]>;
  /**
   * pending (and `decision.at` before expiresAt) → approved | rejected; undefined when it was not
   * pending or is past expiresAt (the request then stays pending until `expire`). A rejection
   * stores no grantExpiresAt.
   */
  decide(id: string, decision: ApprovalDecision): Promise<ApprovalRequest | undefined>;
  /** approved, unexpired, same binding hash → consumed. False when any of that fails (or it was already used). */
  consume(id: string, bindingHash: string, at: string): Promise<boolean>;
  /**
   * pending → expired; false when it was decided meanwhile. Not checked against expiresAt: the
   * waiting call may give up early (cancelled), and nobody should approve what nobody waits for.
   */
  expire(id: string, at: string): Promise<boolean>;
  /**
   * Optional push channel: calls `onDecided` with the id of every request that leaves `pending`
   * in any process sharing the store (PostgreSQL: LISTEN/NOTIFY); resolves once listening.
   * Without it, a waiter in another process sees a decision at its next poll.
   */
  watchDecisions?(onDecided: (id: string) => void): Promise<void>;
}
