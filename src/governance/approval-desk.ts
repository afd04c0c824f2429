import { setTimeout as sleep } from 'node:timers/promises';
import { GatehouseError } from '../core/errors.js';
import type { GatehouseConfig } from '../config/load.js';
import { APPROVAL_DEFAULTS } from '../config/schema.js';
import type { RecordEvent } from '../core/events.js';
import type { ApprovalRequest, ApprovalStore, NewApproval } from '../ports/approval-store.js';

/** A profile's grant lifetime from the config (the schema's default for a profile since removed). */
export function grantTtlFromConfig(config: Pick<GatehouseConfig, 'profiles'>): (profile: string) => number {
  return (profile) => config.profiles[profile]?.approval.grantTtlMs ?? APPROVAL_DEFAULTS.grantTtlMs;
}

/**
 * Where approvals are asked for, decided and waited on. The gateway, the CLI and the HTTP API
 * all decide through here, so the rules (no self-approval, decide once, events) hold for each.
 * A waiting call sees a decision made in this process at once; one made by another process
 * at once too when the store pushes decisions (PostgreSQL), else within one poll interval.
 */
export class ApprovalDesk {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private watching: Promise<void> | undefined;

  constructor(
    private readonly store: ApprovalStore,
    private readonly record: RecordEvent,
    /** How long an approved grant of a profile stays usable. */
    private readonly grantTtlMs: (profile: string) => number,
    private readonly pollMs = 200,
  ) {}

  async request(approval: NewApproval): Promise<ApprovalRequest> {
    const created = await this.store.create(approval);
    this.record({
      type: 'approval.requested',
      agent: created.agent,
      profile: created.profile,
      server: created.server,
      tool: created.tool,
      payload: { approval: created.id, gate: created.gate, reason: created.reason, bindingHash: created.bindingHash, expiresAt: created.expiresAt },
    });
    return created;
  }

  async get(id: string): Promise<ApprovalRequest> {
    const found = await this.store.get(id);
    if (!found) throw new GatehouseError('GH_APPROVAL_UNKNOWN', `no approval request "${id}"`, { approval: id });
    return this.settleOverdue(found);
  }

  async list(filter?: Parameters<ApprovalStore['list']>[0]): Promise<ApprovalRequest[]> {
    const requests = await Promise.all((await this.store.list(filter)).map((request) => this.settleOverdue(request)));
    // A request that expired as it was read no longer matches a `pending` filter.
    return filter?.status ? requests.filter((request) => request.status === filter.status) : requests;
  }

  /**
   * Timeout means deny, in every approval mode: a request still pending past its deadline is
   * expired as it is read (compare-and-set, so `approval.expired` is recorded once whichever
   * process reads it first). Before, only a call waiting on it (wait mode) expired it; in return
   * and queue mode it stayed pending, answered "waits for a human (until <a past time>)".
   */
  private async settleOverdue(request: ApprovalRequest): Promise<ApprovalRequest> {
    if (request.status !== 'pending' || Date.parse(request.expiresAt) > Date.now()) return request;
    if (await this.store.expire(request.id, new Date().toISOString())) {
      this.record({
        type: 'approval.expired',
        agent: request.agent,
        profile: request.profile,
        server: request.server,
        tool: request.tool,
        payload: { approval: request.id, expiresAt: request.expiresAt },
      });
    }
    return (await this.store.get(request.id)) ?? request;
  }

  /** A human's decision. `by` is the operator; the agent that asked can never decide. */
  async decide(id: string, decision: { approved: boolean; by: string; reason?: string | undefined; now?: Date }): Promise<ApprovalRequest> {
    const request = await this.get(id);
    if (decision.by === request.agent) {
      throw new GatehouseError('GH_SELF_APPROVAL', `"${decision.by}" requested ${id} and may not decide it`, { approval: id, agent: request.agent });
    }
    const now = decision.now ?? new Date();
    const decided = await this.store.decide(id, {
      approved: decision.approved,
      by: decision.by,
      at: now.toISOString(),
      ...(decision.reason ? { reason: decision.reason } : {}),
      ...(decision.approved ? { grantExpiresAt: new Date(now.getTime() + this.grantTtlMs(request.profile)).toISOString() } : {}),
    });
    if (!decided) {
      const current = await this.get(id);
      const state = current.status === 'pending' ? 'expired (undecided past its deadline)' : current.status;
      throw new GatehouseError('GH_APPROVAL_DECIDED', `approval ${id} cannot be decided: it is ${state}`, { approval: id, status: current.status });
    }
    this.record({
      type: decided.status === 'approved' ? 'approval.granted' : 'approval.rejected',
      agent: decided.agent,
      profile: decided.profile,
      server: decided.server,
      tool: decided.tool,
      payload: { approval: id, by: decision.by, reason: decision.reason ?? null },
    });
    this.wake(id);
    return decided;
  }

  /** Uses an approved grant once (compare-and-set in the store); false when it cannot be used. */
  consume(id: string, bindingHash: string): Promise<boolean> {
    return this.store.consume(id, bindingHash, new Date().toISOString());
  }

  /**
   * Waits until the request is decided or its deadline passes (then it is expired: timeout
   * means deny). Returns the request as it ends up; an aborted signal stops the wait.
   */
  async waitForDecision(id: string, signal?: AbortSignal): Promise<ApprovalRequest> {
    // Registered before the first read, so that a decision arriving between a read and the
    // sleep after it is not missed: the sleep then returns at once.
    const waiter = new Waiter();
    const set = this.waiters.get(id) ?? new Set();
    set.add(waiter);
    this.waiters.set(id, set);
    try {
      await this.watchOtherProcesses();
      for (;;) {
        waiter.woken = false;
        // get() expires it once its deadline has passed.
        const current = await this.get(id);
        if (current.status !== 'pending') return current;
        const remaining = Date.parse(current.expiresAt) - Date.now();
        if (remaining <= 0) continue;
        if (signal?.aborted) throw new GatehouseError('GH_CANCELLED', `the call waiting for approval ${id} was cancelled by the client`, { approval: id });
        await waiter.sleep(Math.min(this.pollMs, remaining), signal);
      }
    } finally {
      set.delete(waiter);
      if (set.size === 0) this.waiters.delete(id);
    }
  }

  private wake(id: string): void {
    for (const waiter of this.waiters.get(id) ?? []) waiter.wake();
  }

  /**
   * Subscribes once to decisions made in other processes, when the store can push them; a
   * failed subscription is tried again by the next wait (meanwhile waiters poll).
   */
  private watchOtherProcesses(): Promise<void> {
    const watch = this.store.watchDecisions;
    if (!watch) return Promise.resolve();
    this.watching ??= watch.call(this.store, (id) => this.wake(id)).catch(() => {
      this.watching = undefined;
    });
    return this.watching;
  }
}

/** One waiting call: sleeps until woken (a decision somewhere), its poll interval, or its caller's abort. */
class Waiter {
  woken = false;
  private interrupt: (() => void) | undefined;

  wake(): void {
    this.woken = true;
    this.interrupt?.();
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken || signal?.aborted) return;
    const controller = new AbortController();
    this.interrupt = () => controller.abort();
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await sleep(ms, undefined, { signal: controller.signal });
    } catch {
      // woken, or aborted by the caller (checked by the loop)
    } finally {
      this.interrupt = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
