import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../gateway/gateway.js';
import { operatorOrRefuse } from './operator-auth.js';
import { sendJson } from './send-json.js';

/**
 * `GET /api/servers` (operator token): the live state of every downstream server of this gateway
 * process: process state, crashes in a row, when a crashed or failed server is started again, its
 * last stderr lines, its circuit and its bulkhead. Returns false when the path is not this API's.
 */
export function handleServersApi(gateway: Gateway, req: IncomingMessage, res: ServerResponse, url: URL, bearer: string | undefined): boolean {
  if (!/^\/api\/servers\/?$/.test(url.pathname)) return false;
  if (operatorOrRefuse(gateway, bearer, res) === undefined) return true;
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET');
    sendJson(res, 405, { error: { code: 'GH_INVALID_ARGUMENTS', message: `${req.method ?? ''} is not allowed on ${url.pathname}` } });
    return true;
  }
  sendJson(res, 200, { pid: process.pid, at: new Date().toISOString(), servers: gateway.serverReports() });
  return true;
}
