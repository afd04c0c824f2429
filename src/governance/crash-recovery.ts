import { hostname } from 'node:os';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../core/errors.js';
import { pidGone, processStart } from '../core/pid.js';
import type { RecordEvent } from '../core/events.js';
import type { IdempotencyLedger, IdempotencyRecord } from '../ports/idempotency-ledger.js';
import type { ProcessLiveness, ProcessRegistry } from '../ports/process-registry.js';

/** Whether the process that claimed something is gone (ownerGone, ownerGoneBy). */
export type OwnerGone = (owner: string | undefined) => boolean | Promise<boolean>;

const OWNER = ((start) => `${hostname()}:${process.pid}${start === undefined ? '' : `:${start}`}`)(processStart(process.pid));

/**
 * This process as the owner of what it claims: host:pid:start, the start from /proc (host:pid
 * where /proc cannot tell), so that a process that has a dead one's pid (a container's gateway
 * restarted as pid 1 again) is not taken for it.
 */
export function processOwner(): string {
  return OWNER;
}

/**
 * This gateway process (host:pid:start): in each call's first event (a later start closes the
 * runs of a process that died), as the registry and its idempotency keys name it.
 */
export const GATEWAY_PROCESS = processOwner();

/**
 * What can be known of the process ("host:pid:start", or "host:pid" as versions before the start
 * wrote it) that claimed something: `alive` when it runs here (this process included), `gone`
 * when it ran on this host and its pid no longer exists, or now belongs to a process that started
 * at another time (or the record is older than owners), `unknown` when it ran on another host.
 */
export function ownerState(owner: string | undefined): 'gone' | 'alive' | 'unknown' {
  if (owner === undefined) return 'gone';
  if (owner === OWNER) return 'alive';
  const parts = /^(.+?):(\d+)(?::(\d+))?$/.exec(owner);
  if (!parts || parts[1] !== hostname()) return 'unknown';
  const pid = Number(parts[2]);
  const start = parts[3];
  // This process's pid, yet not this process: one before it that had the same pid.
  if (pid === process.pid) return 'gone';
  if (pidGone(pid)) return 'gone';
  const runningSince = start === undefined ? undefined : processStart(pid);
  return runningSince !== undefined && runningSince !== start ? 'gone' : 'alive';
}

/**
 * Whether the process that claimed a key is gone, by its pid: one on another host is taken as
 * alive, so its keys stay in_progress until an operator looks (`gatehouse commits list --all`).
 * Every doubt leans towards "not sent again". A gateway asks `ownerGoneBy` instead.
 */
export function ownerGone(owner: string | undefined): boolean {
  return ownerState(owner) === 'gone';
}

/** How often a gateway process tells the registry that it is alive. */
export const HEARTBEAT_MS = 10_000;
/** A process of another host silent this long (six beats missed) is taken as gone. */
export const SILENT_AFTER_MS = 60_000;

/**
 * How the process that claimed something looks now: on this host `alive` or `gone` (by its pid);
 * on another host what the registry knows of it (`live`, `silent` past `silentAfterMs`,
 * `stopped`, or `unregistered`: a gateway of a version before the registry).
 */
export type OwnerNow = 'alive' | 'gone' | ProcessLiveness;

export async function ownerNow(owner: string | undefined, registry: ProcessRegistry, silentAfterMs = SILENT_AFTER_MS): Promise<OwnerNow> {
  const state = ownerState(owner);
  if (state !== 'unknown' || owner === undefined) return state === 'unknown' ? 'gone' : state;
  return registry.liveness(owner, silentAfterMs);
}

const GONE = new Set<OwnerNow>(['gone', 'silent', 'stopped']);

/**
 * `ownerGone`, with the registry for processes of other hosts: one that said it stopped, or has
 * been silent for `silentAfterMs`, is gone. One that never registered is still taken as alive.
 */
export function ownerGoneBy(registry: ProcessRegistry, silentAfterMs = SILENT_AFTER_MS): (owner: string | undefined) => Promise<boolean> {
  return async (owner) => GONE.has(await ownerNow(owner, registry, silentAfterMs));
}

/**
 * Crash recovery, at start: a keyed call left in_progress by a dead process is reconciled. One
 * that had gone downstream becomes `unknown` (a `commit.unknown` event): it may or may not have
 * run, so it is never sent again by itself, and a repeat is answered GH_OUTCOME_UNKNOWN until an
 * operator resolves it. One that had not (it waited for an approval) is `failed`: the key is free.
 */
export async function reconcileInFlight(ledger: IdempotencyLedger, record: RecordEvent, gone: OwnerGone = ownerGone): Promise<IdempotencyRecord[]> {
  const unknown: IdempotencyRecord[] = [];
  for (const entry of await ledger.list('in_progress')) {
    if (!(await gone(entry.owner))) continue;
    const started = entry.startedAt !== undefined || entry.owner === undefined;
    if (!(await ledger.reconcile(entry, started ? 'unknown' : 'failed')) || !started) continue;
    unknown.push({ ...entry, state: 'unknown' });
    record({
      type: 'commit.unknown',
      agent: entry.agent,
      server: serverOf(entry.tool),
      tool: entry.tool.slice(serverOf(entry.tool).length + 1),
      payload: { key: entry.key, owner: entry.owner ?? null, startedAt: entry.startedAt ?? null, createdAt: entry.createdAt },
    });
  }
  return unknown;
}

/** What identifies an unknown record for an operator: its key, and agent and tool when the key alone is ambiguous. */
export interface UnknownSelector {
  key: string;
  agent?: string | undefined;
  tool?: string | undefined;
}

/**
 * An operator's decision on an unknown call. `sent`: it ran; the key is committed with a result
 * saying so, and a repeat gets that result as a replay. Not sent: the key is `failed`, so the
 * same call may run again (a G2/G3 call needs a new approval: its grant was used).
 */
export async function resolveUnknown(
  ledger: IdempotencyLedger,
  record: RecordEvent,
  selector: UnknownSelector,
  decision: { sent: boolean; by: string; reason?: string | undefined; at?: Date },
): Promise<IdempotencyRecord> {
  const entry = await findUnknown(ledger, selector);
  const at = (decision.at ?? new Date()).toISOString();
  const note = `${decision.by}${decision.reason ? `: ${decision.reason}` : ''}`;
  const result: CallToolResult = {
    content: [{ type: 'text', text: `this call was in flight when its gateway stopped; on ${at} an operator confirmed that it was sent (${note}). It was not sent again.` }],
  };
  if (!(await ledger.resolve(entry.agent, entry.tool, entry.key, decision.sent ? 'committed' : 'failed', decision.sent ? { result } : undefined))) {
    throw new GatehouseError('GH_COMMIT_UNKNOWN', `"${entry.key}" was resolved meanwhile by someone else`, { key: entry.key });
  }
  const server = serverOf(entry.tool);
  record({
    type: 'commit.resolved',
    agent: entry.agent,
    server,
    tool: entry.tool.slice(server.length + 1),
    payload: { key: entry.key, resolution: decision.sent ? 'sent' : 'not_sent', by: decision.by, reason: decision.reason ?? null },
  });
  return { ...entry, state: decision.sent ? 'committed' : 'failed' };
}

async function findUnknown(ledger: IdempotencyLedger, selector: UnknownSelector): Promise<IdempotencyRecord> {
  const matches = (await ledger.list('unknown')).filter(
    (entry) => entry.key === selector.key && (selector.agent === undefined || entry.agent === selector.agent) && (selector.tool === undefined || entry.tool === selector.tool),
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new GatehouseError('GH_COMMIT_UNKNOWN', `no call with an unknown outcome has key "${selector.key}"`, { key: selector.key });
  throw new GatehouseError('GH_COMMIT_UNKNOWN', `key "${selector.key}" is unknown for ${matches.length} calls; add --agent and --tool`, {
    key: selector.key,
    candidates: matches.map((entry) => ({ agent: entry.agent, tool: entry.tool })),
  });
}

function serverOf(tool: string): string {
  return tool.slice(0, Math.max(0, tool.indexOf('/')));
}
