import { randomUUID } from 'node:crypto';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { TracingConfig } from '../config/schema.js';
import { GATEHOUSE_INFO } from '../transports/mcp-session.js';
import { OtelCallTracing } from './otel-call-tracing.js';
import type { Tracing } from './tracing.js';

/** An exporter that keeps failing (collector down) is reported once, then at most this often. */
const EXPORT_FAILURE_LOG_EVERY_MS = 60_000;

/** How long a stopping gateway waits for the collector to take the last spans: Ctrl-C should not hang on a dead collector. */
const SHUTDOWN_WAIT_MS = 3_000;

/**
 * The OpenTelemetry SDK for tool-call spans: a tracer provider of our own (never registered
 * globally, so that a library in the same process does not start tracing through it), a
 * parent-based ratio sampler, and a batching OTLP/HTTP (protobuf) exporter. `spanProcessors`
 * replaces the exporter (tests pass an in-memory one).
 */
export function startOtelTracing(config: TracingConfig, log: Logger, spanProcessors?: SpanProcessor[]): Tracing {
  reportExportFailures(log);
  const processors = spanProcessors ?? [
    new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint, headers: { ...config.headers }, timeoutMillis: config.exportTimeoutMs })),
  ];
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': GATEHOUSE_INFO.version, 'service.instance.id': randomUUID() }),
    ),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: processors,
  });
  if (!spanProcessors) log.info({ endpoint: withoutCredentials(config.endpoint), sampleRatio: config.sampleRatio }, 'tracing: exporting spans over OTLP/HTTP');
  return {
    tracing: new OtelCallTracing(provider.getTracer('gatehouse', GATEHOUSE_INFO.version)),
    shutdown: () => shutdownWithin(provider, log),
  };
}

async function shutdownWithin(provider: BasicTracerProvider, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), SHUTDOWN_WAIT_MS);
  });
  const flushed = provider.shutdown().then(
    () => 'done' as const,
    (error: unknown) => {
      log.warn({ err: error }, 'tracing: the last spans could not be exported at shutdown');
      return 'failed' as const;
    },
  );
  const result = await Promise.race([flushed, gaveUp]);
  clearTimeout(timer);
  if (result === 'timeout') log.warn({ waitedMs: SHUTDOWN_WAIT_MS }, 'tracing: the collector did not take the last spans in time; they are dropped');
}

/** The SDK reports export failures through its diagnostic logger; they go to ours (which redacts), rate-limited. */
function reportExportFailures(log: Logger): void {
  let lastAt = 0;
  let suppressed = 0;
  const report = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - lastAt < EXPORT_FAILURE_LOG_EVERY_MS) {
      suppressed += 1;
      return;
    }
    lastAt = now;
    log.warn({ suppressedSinceLast: suppressed, detail: args.length > 0 ? args.map(String).join(' ') : undefined }, `tracing: ${readable(message)}`);
    suppressed = 0;
  };
  const quiet = () => undefined;
  diag.setLogger({ error: report, warn: report, info: quiet, debug: quiet, verbose: quiet }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/** The SDK's error handler passes an exception as a JSON string; its message is what a person needs. */
function readable(message: string): string {
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string') return `spans could not be exported: ${parsed.message}`;
  } catch {
    // not JSON: a message of its own
  }
  return message;
}

/** `https://user:pass@host/…` → `https://host/…`, for the start-up log line. */
function withoutCredentials(endpoint: string): string {
  const url = new URL(endpoint);
  url.username = '';
  url.password = '';
  return url.toString();
}
