/**
 * A call's cancellation, as the call path uses it: whether and why it was cancelled, a plain
 * callback when it is, and an AbortSignal for the APIs that take one. Node's AbortSignal is an
 * EventTarget: making one and listening to it cost about 6 µs of every call in a profile of
 * `gatehouse connect`, though few calls are ever cancelled.
 */
export interface Cancellation {
  readonly aborted: boolean;
  /** Why, once aborted (as AbortSignal.reason). */
  readonly reason: unknown;
  /** An AbortSignal that aborts with this cancellation. */
  readonly signal: AbortSignal;
  /** Calls `listener` once, when it aborts; returns the function that stops listening. */
  onAbort(listener: (reason: unknown) => void): () => void;
}

const NOT_LISTENING = (): void => undefined;

/**
 * A cancellation its owner aborts, whose AbortSignal is made only when something asks for it. It
 * aborts as an AbortController does: once, with an AbortError when no reason is given.
 */
export class CallCancellation implements Cancellation {
  private controller: AbortController | undefined;
  private listeners: Set<(reason: unknown) => void> | undefined;
  private abortedWith: { reason: unknown } | undefined;

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.abortedWith) return NOT_LISTENING;
    (this.listeners ??= new Set()).add(listener);
    return () => this.listeners?.delete(listener);
  }

  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason: reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason };
    this.controller?.abort(this.abortedWith.reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener(this.abortedWith.reason);
  }
}

/** A Cancellation that follows an AbortSignal made elsewhere (the SDK's, for the requests it handles). */
export function cancellationOf(signal: AbortSignal): Cancellation {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    signal,
    onAbort(listener) {
      if (signal.aborted) return NOT_LISTENING;
      const onAbort = (): void => listener(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      return () => signal.removeEventListener('abort', onAbort);
    },
  };
}
