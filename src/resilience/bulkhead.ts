import { GatehouseError } from '../core/errors.js';

interface Waiter {
  admit: () => void;
  refuse: (error: Error) => void;
}

/**
 * A bulkhead for one server: at most `maxConcurrent` calls in flight, up to `maxQueued` more
 * waiting in order, and beyond that an immediate GH_SERVER_BUSY. It keeps one slow or stuck
 * server from holding every connection and all of the gateway's memory.
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly server: string,
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** A free slot now, without waiting (the function frees it), or undefined when every slot is taken. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.maxConcurrent) return undefined;
    this.active += 1;
    return this.releaser();
  }

  /** Waits for a slot (or refuses at once when the queue is full); the returned function frees it. */
  async acquire(signal: AbortSignal | undefined): Promise<() => void> {
    const free = this.tryAcquire();
    if (free) return free;
    if (this.queue.length >= this.maxQueued) {
      throw new GatehouseError(
        'GH_SERVER_BUSY',
        `server "${this.server}" is busy: ${this.active} calls in flight and ${this.queue.length} waiting, the most its bulkhead allows (maxConcurrentCalls ${this.maxConcurrent}, maxQueuedCalls ${this.maxQueued}); retry shortly`,
        { server: this.server, maxConcurrentCalls: this.maxConcurrent, maxQueuedCalls: this.maxQueued },
      );
    }
    const cancelled = () => new GatehouseError('GH_CANCELLED', `the call was cancelled while it waited for a slot on server "${this.server}"`, { server: this.server });
    if (signal?.aborted) throw cancelled();
    await new Promise<void>((admit, refuse) => {
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        refuse(cancelled());
      };
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          admit();
        },
        refuse,
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next.admit(); // the slot passes straight to the next waiter
      else this.active -= 1;
    };
  }
}
