import type { Logger } from 'pino';
import { signCheckpoint, type AuditSigner, type SignedCheckpoint } from '../core/checkpoint.js';
import type { CheckpointStore } from '../ports/checkpoint-store.js';

export interface CheckpointSchedule {
  /** Sign after this many events written by this process (0: never by count). */
  everyEvents: number;
  /** Sign this often while this process wrote events since its last checkpoint (0: never by time). */
  everyMs: number;
}

/**
 * Signs checkpoints of the audit chain as a gateway writes events: after every N of its events,
 * every T while it writes, and once at shutdown. A checkpoint vouches for the chain head at the
 * time (events of other processes on the store included). A failure is logged, never thrown at
 * a call: the events are stored either way, and the next checkpoint covers them.
 */
export class Checkpointer {
  private unsigned = 0;
  private running: Promise<SignedCheckpoint | undefined> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly signer: AuditSigner,
    private readonly schedule: CheckpointSchedule,
    private readonly log: Logger,
  ) {
    if (schedule.everyMs > 0) {
      this.timer = setInterval(() => {
        if (this.unsigned > 0) void this.checkpoint();
      }, schedule.everyMs).unref();
    }
  }

  /** The outbox committed `count` events. */
  written(count: number): void {
    this.unsigned += count;
    if (this.schedule.everyEvents > 0 && this.unsigned >= this.schedule.everyEvents) void this.checkpoint();
  }

  /** Signs the current head now (or joins the signing in progress). */
  checkpoint(): Promise<SignedCheckpoint | undefined> {
    this.running ??= this.sign().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer and signs what this process wrote since its last checkpoint. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    if (this.unsigned > 0) await this.checkpoint();
  }

  private async sign(): Promise<SignedCheckpoint | undefined> {
    const covered = this.unsigned;
    try {
      const head = await this.store.head();
      if (!head) return undefined;
      const checkpoint = signCheckpoint(head, new Date().toISOString(), this.signer);
      await this.store.add(checkpoint);
      this.unsigned = Math.max(0, this.unsigned - covered);
      return checkpoint;
    } catch (error) {
      this.log.error({ err: error }, 'audit checkpoint could not be signed or stored');
      return undefined;
    }
  }
}
