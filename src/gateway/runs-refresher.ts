import type { Logger } from 'pino';
import type { RunsStore } from '../ports/runs-store.js';

/** How often a gateway that wrote call events brings the runs view up to date. */
const REFRESH_MS = 500;
/** Events per refresh step: a few milliseconds of work, so that calls in flight are not held up. */
const STEP = 5_000;

/**
 * Keeps the runs view close behind the events a gateway writes: projecting in bulk every half
 * second costs a fraction of maintaining it per event on the append path. Readers catch up
 * themselves (RunsStore.list), so this only keeps their catching up short.
 */
export class RunsRefresher {
  private pending = false;
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly runs: RunsStore,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => {
      if (this.pending) void this.refresh();
    }, REFRESH_MS).unref();
  }

  /** The outbox committed events. */
  written(): void {
    this.pending = true;
  }

  /** Stops the timer and brings the view up to date. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.runs.refresh().catch((error: unknown) => this.log.error({ err: error }, 'runs view could not be refreshed'));
  }

  private refresh(): Promise<void> {
    this.running ??= (async () => {
      this.pending = false;
      try {
        // Step by step, yielding between steps; a backlog (e.g. after a restart) is worked off over several turns.
        while ((await this.runs.refresh(STEP)) === STEP) await new Promise((resolve) => setImmediate(resolve));
      } catch (error) {
        this.log.error({ err: error }, 'runs view could not be refreshed');
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
