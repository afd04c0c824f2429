import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../gateway/gateway.js';
import type { PrometheusMetrics } from '../telemetry/prometheus-metrics.js';
import { operatorOrRefuse } from './operator-auth.js';
import { sendJson } from './send-json.js';

/** Addresses only this machine can reach: with `metrics.auth: auto`, /metrics is open there. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./.test(host);
}

/** Whether a scrape needs an operator token under the configured `metrics.auth`. */
export function metricsNeedToken(auth: 'auto' | 'operator' | 'none', boundHost: string): boolean {
  return auth === 'operator' || (auth === 'auto' && !isLoopbackHost(boundHost));
}

/**
 * `GET /metrics`: the Prometheus exposition of the gateway. Open or behind an operator token
 * as `metrics.auth` says (an agent's token is refused: agents should not read other agents' activity).
 */
export async function handleMetrics(
  gateway: Gateway,
  metrics: PrometheusMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  bearer: string | undefined,
  boundHost: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendJson(res, 405, { error: { code: 'GH_INVALID_ARGUMENTS', message: `${req.method} is not allowed on /metrics` } });
  }
  if (metricsNeedToken(gateway.config.metrics.auth, boundHost) && operatorOrRefuse(gateway, bearer, res) === undefined) return;
  const { contentType, body } = await metrics.scrape();
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
