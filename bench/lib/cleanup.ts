/**
 * Teardown steps that must run however a benchmark ends: normal return, a thrown error, or
 * Ctrl-C. Without the signal handlers a Ctrl-C would leave `gatehouse serve` (a detached
 * process group) and its temp folder behind.
 */
export class Cleanup {
  private readonly steps: Array<() => unknown> = [];
  private readonly controller = new AbortController();
  private finished = false;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Aborted when cleanup starts, so that work still in flight (e.g. `gatehouse index`) stops too. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Adds a step; steps run in reverse order (last acquired, first released). A step added while
   * cleanup has started is still run: a process spawned during a Ctrl-C must not escape.
   */
  add(step: () => unknown): void {
    if (this.finished) void Promise.resolve().then(step).catch(() => undefined);
    else this.steps.push(step);
  }

  /** Runs every step once, even when one fails, and removes the signal handlers. */
  async run(): Promise<void> {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    this.controller.abort();
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (error) {
        console.error(`cleanup step failed: ${(error as Error).message}`);
      }
    }
    this.finished = true;
  }
}
