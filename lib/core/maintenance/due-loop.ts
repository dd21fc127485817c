import { DEFAULT_QUIT_TIMEOUT } from '../defaults.js';

/**
 * Runs a look (at scheduled tasks, at periodic schedules) now and then again when the look
 * says the next thing comes due, never more than `maxWait` later: a timer that died with a
 * connection, or something added by another process, costs at most that much, never hours.
 * Looks never overlap; one asked for during a look runs right after it.
 */
export class DueLoop {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (monotonic ms), to re-arm only for something earlier. */
  private armedFor = Infinity;
  private running = false;
  private looking: Promise<void> | undefined;
  private again = false;

  constructor(
    /** One look; resolves with the ms until the next is due. A rejection waits `maxWait`. */
    private readonly look: () => Promise<number>,
    private readonly maxWait: number,
  ) {}

  /** Looks now, then whenever something comes due. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(0);
  }

  /** Stops looking; waits for a look in progress, at most 2 s. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.looking === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.looking,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, DEFAULT_QUIT_TIMEOUT))),
    ]);
    clearTimeout(timer);
  }

  /** Looks in `ms` (at once by default), unless a look is already armed for earlier. */
  arm(ms = 0): void {
    if (!this.running) return;
    // Never beyond maxWait (a far-future time would overflow a Node timer), on a clock that
    // does not jump with the wall clock.
    ms = Math.min(Math.max(0, ms), this.maxWait);
    const at = performance.now() + ms;
    if (this.timer !== undefined && at >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, ms);
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.looking !== undefined) {
      this.again = true;
      return;
    }
    this.looking = this.look()
      .catch(() => this.maxWait)
      .then((wait) => {
        this.looking = undefined;
        if (this.again) {
          this.again = false;
          wait = 0;
        }
        this.arm(wait);
      });
  };
}
