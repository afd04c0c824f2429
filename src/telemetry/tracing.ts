import type { Logger } from 'pino';
import type { TracingConfig } from '../config/schema.js';
import { NO_TRACING, type CallTracing } from '../gateway/pipeline/telemetry.js';

/** The call tracing of a process and how to end it (flushing spans not exported yet). */
export interface Tracing {
  tracing: CallTracing;
  shutdown(): Promise<void>;
}

/**
 * Tracing as configured. Off (the default), nothing is loaded: the OpenTelemetry SDK and the
 * exporter are imported only when `tracing.enabled` is true, so neither the start of
 * `gatehouse connect` nor a call pays for them.
 */
export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracing> {
  if (!config.enabled) return { tracing: NO_TRACING, shutdown: async () => undefined };
  const { startOtelTracing } = await import('./otel-setup.js');
  return startOtelTracing(config, log);
}
