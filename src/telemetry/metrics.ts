import type { PrometheusMetrics } from './prometheus-metrics.js';

/**
 * The Prometheus metrics of `gatehouse serve`. prom-client is loaded here, on demand, so that
 * commands without /metrics (`gatehouse connect`, the operator commands) never load it.
 */
export async function createMetrics(): Promise<PrometheusMetrics> {
  const { PrometheusMetrics } = await import('./prometheus-metrics.js');
  return new PrometheusMetrics();
}
