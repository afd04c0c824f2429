/**
 * A one-line progress bar on a terminal: `label [#########.........]  47%  12.3 s`, redrawn in place.
 * Finished steps are printed as lines above it (`line`). Where the stream is not a terminal (a
 * log, CI, a pipe) nothing is drawn and only the lines are written, so logs stay plain.
 */
export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 30;

export class ProgressBar {
  private label: string | undefined;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private drawnAt = 0;

  /**
   * @param percent the part done of the current step, 0-100, or undefined when unknown (then only
   *   the label and the elapsed time are shown)
   */
  constructor(
    private readonly stream: ProgressStream,
    private readonly percent: () => number | undefined,
    private readonly redrawMs = 200,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** A long step starts: the bar shows it until the next step, line or stop. */
  readonly start = (label: string): void => {
    if (!this.enabled) return;
    this.label = label;
    this.startedAt = Date.now();
    this.draw();
    this.timer ??= setInterval(() => this.draw(), this.redrawMs);
    this.timer.unref();
  };

  /** Prints a finished step's line; the bar, if one is showing, is drawn again below it. */
  readonly line = (message: string): void => {
    this.clear();
    this.stream.write(`${message}\n`);
    if (this.label !== undefined) this.draw();
  };

  /** Redraws if the last drawing is older than the redraw interval: for a synchronous caller (the generator), which leaves the timer no turn. */
  readonly tick = (): void => {
    if (Date.now() - this.drawnAt >= this.redrawMs) this.draw();
  };

  private draw(): void {
    if (!this.enabled || this.label === undefined) return;
    const done = this.percent();
    const elapsed = `${((Date.now() - this.startedAt) / 1000).toFixed(1)} s`;
    const text =
      done === undefined
        ? `${this.label}  ${elapsed}`
        : `${this.label} [${bar(done)}] ${Math.floor(clamp(done)).toString().padStart(3)}%  ${elapsed}`;
    const width = (this.stream.columns ?? 80) - 1;
    this.stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
    this.drawn = true;
    this.drawnAt = Date.now();
  }

  /** Removes the bar (at the end of a command, or when it fails). */
  readonly stop = (): void => {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
    this.label = undefined;
  };

  private clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

const clamp = (percent: number): number => Math.min(100, Math.max(0, percent));

function bar(percent: number): string {
  const filled = Math.round((clamp(percent) / 100) * BAR_WIDTH);
  return `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
}
