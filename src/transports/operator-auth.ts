import type { ServerResponse } from 'node:http';
import { isGatehouseError } from '../core/errors.js';
import type { Gateway } from '../gateway/gateway.js';
import { sendJson } from './send-json.js';

/**
 * The operator behind the bearer token of an operator-only endpoint (/metrics when guarded,
 * /api/servers, /api/approvals). Otherwise the request is answered here: 401 with a
 * WWW-Authenticate challenge for a missing or unknown token, 403 for an agent's token; and
 * undefined is returned.
 */
export function operatorOrRefuse(gateway: Gateway, bearer: string | undefined, res: ServerResponse): string | undefined {
  try {
    return gateway.tokens.authenticateOperator(bearer);
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    const status = error.code === 'GH_NOT_OPERATOR' ? 403 : 401;
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="gatehouse-operators"');
    sendJson(res, status, { error: error.toJSON() });
    return undefined;
  }
}
