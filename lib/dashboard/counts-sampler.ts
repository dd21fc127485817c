import { type DelayedLogger, errorMessage, type QueueInspector } from '../core/index.js';
import { CountHistory, type CountSeries } from './count-history.js';

/**
 * Reads the counts of every shown queue every `interval` ms into a ring of `capacity`
 * samples per queue, for the dashboard's charts. One read at a time: the next starts
 * `interval` after the previous one started, and never before it ended, so a slow or
 * unreachable Redis (each read gives up after the queue's redisTimeout) spaces the samples
 * out instead of piling reads up. A failed read leaves a gap, logged once until it heals.
 */
export class CountsSampler {
  private readonly histories = new Map<string, CountHistory>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;
  private failing = '';

  constructor(
    private readonly inspectors: readonly QueueInspector[],
    private readonly interval: number,
    capacity: number,
    private readonly logger: DelayedLogger,
  ) {
    for (const inspector of inspectors) {
      this.histories.set(inspector.name, new CountHistory(capacity));
    }
  }

  /** Takes a sample now, then one every `interval` ms until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stops sampling; resolves once a read in flight has ended. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** The samples of one queue, oldest first (empty for a queue not sampled). */
  history(queue: string): CountSeries {
    return (
      this.histories.get(queue)?.series() ?? {
        at: [],
        waiting: [],
        running: [],
        scheduled: [],
        dead: [],
      }
    );
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const started = Date.now();
    this.inFlight = this.sample().finally(() => {
      this.inFlight = undefined;
      if (!this.running) return;
      const wait = Math.max(0, this.interval - (Date.now() - started));
      this.timer = setTimeout(this.tick, wait);
      // Sampling alone must not keep a process alive (a script that forgot to close the app).
      this.timer.unref();
    });
  };

  private async sample(): Promise<void> {
    const results = await Promise.allSettled(
      this.inspectors.map((inspector) => inspector.counts()),
    );
    const problems: string[] = [];
    results.forEach((result, i) => {
      const name = this.inspectors[i]!.name;
      if (result.status === 'fulfilled') this.histories.get(name)!.add(result.value);
      else problems.push(`"${name}": ${errorMessage(result.reason)}`);
    });
    const problem = problems.join('; ');
    if (problem !== '' && problem !== this.failing) {
      this.logger.warn(`Could not sample the counts of queue(s) ${problem}`);
    } else if (problem === '' && this.failing !== '') {
      this.logger.log('Sampling the queue counts again');
    }
    this.failing = problem;
  }
}
