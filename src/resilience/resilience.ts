import type { GatehouseConfig } from '../config/load.js';
import { CIRCUIT_BREAKER_DEFAULTS, RETRY_DEFAULTS, type ServerConfig } from '../config/schema.js';
import { Bulkhead } from './bulkhead.js';
import { ServerCircuit, type CircuitHooks, type CircuitSettings } from './circuit.js';
import { RateLimiter } from './rate-limiter.js';
import { ToolSettings } from './tool-settings.js';

/** Everything that protects calls to one server. */
export interface ServerGuard {
  circuit: ServerCircuit;
  bulkhead: Bulkhead;
  callTimeoutMs: number;
  /** How long a start may take, which an attempt can include on top of its call timeout. */
  startTimeoutMs: number;
  maxRequestBytes: number;
  maxResultBytes: number;
  retry: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
}

/**
 * The resilience settings and state of one gateway process: a guard per server (circuit
 * breaker, bulkhead, limits, retry settings), per-tool settings, and the agents' rate limits.
 * State is per process: gateways sharing a store each keep their own breakers.
 */
export class Resilience {
  readonly tools: ToolSettings;
  readonly rateLimiter: RateLimiter;
  private readonly guards = new Map<string, ServerGuard>();

  constructor(config: Pick<GatehouseConfig, 'servers' | 'defaults' | 'agents' | 'profiles'>, hooks: CircuitHooks) {
    this.tools = new ToolSettings(config.servers);
    this.rateLimiter = new RateLimiter(config);
    for (const [name, server] of Object.entries(config.servers)) this.guards.set(name, guardOf(name, server, config.defaults, hooks));
  }

  guard(server: string): ServerGuard {
    const guard = this.guards.get(server);
    if (!guard) throw new Error(`no guard for server "${server}"`);
    return guard;
  }
}

/** A server's effective settings: its own keys, else `defaults`, else the built-in defaults. */
function guardOf(name: string, server: ServerConfig, defaults: GatehouseConfig['defaults'], hooks: CircuitHooks): ServerGuard {
  const circuit: CircuitSettings = { ...CIRCUIT_BREAKER_DEFAULTS, ...defined(defaults.circuitBreaker), ...defined(server.circuitBreaker ?? {}) };
  const retry = { ...RETRY_DEFAULTS, ...defined(defaults.retry), ...defined(server.retry ?? {}) };
  return {
    circuit: new ServerCircuit(name, circuit, hooks),
    bulkhead: new Bulkhead(name, server.maxConcurrentCalls ?? defaults.maxConcurrentCalls, server.maxQueuedCalls ?? defaults.maxQueuedCalls),
    callTimeoutMs: server.callTimeoutMs ?? defaults.callTimeoutMs,
    startTimeoutMs: server.startTimeoutMs ?? defaults.startTimeoutMs,
    maxRequestBytes: server.maxRequestBytes ?? defaults.maxRequestBytes,
    maxResultBytes: server.maxResultBytes ?? defaults.maxResultBytes,
    retry,
  };
}

/** The keys of an object whose value is set (zod leaves optional keys present as undefined). */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
