import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError, isGatehouseError, type ErrorCode } from '../core/errors.js';
import { APPROVAL_STATUSES as STATUSES, type ApprovalStatus } from '../ports/approval-store.js';
import type { Gateway } from '../gateway/gateway.js';
import { readJsonBody } from './read-body.js';
import { operatorOrRefuse } from './operator-auth.js';
import { sendJson } from './send-json.js';

/** The most approvals one GET lists. */
const MAX_LIST = 1000;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  GH_SELF_APPROVAL: 403,
  GH_APPROVAL_UNKNOWN: 404,
  GH_APPROVAL_DECIDED: 409,
  GH_INVALID_ARGUMENTS: 400,
  GH_BODY_TOO_LARGE: 413,
};

/**
 * The operators' approval API: `GET /api/approvals[?status=pending]`, `GET /api/approvals/ID`,
 * `POST /api/approvals/ID/approve` and `POST /api/approvals/ID/reject` with `{"reason": "…"}`.
 * Only operator tokens are accepted; an agent's token is refused even for reading. Returns
 * false when the path is not this API's.
 */
export async function handleApprovalsApi(gateway: Gateway, req: IncomingMessage, res: ServerResponse, url: URL, bearer: string | undefined): Promise<boolean> {
  // Any id shape is this API's (an unknown one is GH_APPROVAL_UNKNOWN, not "no route").
  const match = /^\/api\/approvals(?:\/([^/]+)(?:\/(approve|reject))?)?\/?$/.exec(url.pathname);
  if (!match) return false;
  const [, id, action] = match;
  const operator = operatorOrRefuse(gateway, bearer, res);
  if (operator === undefined) return true;
  try {
    if (!id && req.method === 'GET') {
      const status = url.searchParams.get('status');
      if (status !== null && !STATUSES.includes(status as ApprovalStatus)) {
        throw new GatehouseError('GH_INVALID_ARGUMENTS', `status must be one of ${STATUSES.join(', ')}`);
      }
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? 100 : /^[0-9]+$/.test(limitText) ? Number(limitText) : Number.NaN;
      // A negative LIMIT is no limit at all in SQLite; NaN used to fall back silently.
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new GatehouseError('GH_INVALID_ARGUMENTS', `limit must be a whole number from 1 to ${MAX_LIST} (got "${limitText}")`);
      sendJson(res, 200, { approvals: await gateway.desk.list({ ...(status ? { status: status as ApprovalStatus } : {}), limit }) });
    } else if (id && !action && req.method === 'GET') {
      sendJson(res, 200, await gateway.desk.get(id));
    } else if (id && action && req.method === 'POST') {
      const reason = await readReason(req, gateway.config.http.maxBodyBytes, action === 'reject');
      const decided = await gateway.desk.decide(id, { approved: action === 'approve', by: operator, reason });
      sendJson(res, 200, decided);
    } else {
      res.setHeader('Allow', action ? 'POST' : 'GET');
      sendJson(res, 405, { error: { code: 'GH_INVALID_ARGUMENTS', message: `${req.method} is not allowed on ${url.pathname}; use ${action ? 'POST' : 'GET'}` } });
    }
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    sendJson(res, STATUS_OF[error.code] ?? 500, { error: error.toJSON() });
  }
  return true;
}

async function readReason(req: IncomingMessage, limit: number, required: boolean): Promise<string | undefined> {
  const body = await readJsonBody(req, limit);
  const invalid = (message: string) => new GatehouseError('GH_INVALID_ARGUMENTS', message);
  if (body.kind === 'too-large') throw new GatehouseError('GH_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`, { limit });
  if (body.kind === 'invalid') throw invalid(`body is not JSON: ${body.message}`);
  // An empty body is fine for an approval.
  const value = body.kind === 'ok' ? body.value : undefined;
  const reason = value !== null && typeof value === 'object' ? (value as { reason?: unknown }).reason : undefined;
  if (reason !== undefined && typeof reason !== 'string') throw invalid('"reason" must be a string');
  if (required && !reason?.trim()) throw invalid('a rejection needs {"reason": "…"}: the agent is told why');
  return reason;
}
