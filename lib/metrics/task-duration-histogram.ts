import { DURATION_OUTCOMES, type TaskTallies } from './task-tallies.js';

/** One sample as prom-client's registry writes it (the `get()` shape of its metrics). */
interface Sample {
  readonly metricName: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/**
 * The task duration histogram, read from the tallies when scraped. prom-client's Histogram
 * keeps its buckets itself and offers no way to hand it counts made elsewhere, so this is a
 * metric of its own that a prom-client registry takes: it has the `name`, `help`, `type`,
 * `aggregator`, `get()` and `reset()` a registry uses, and `get()` returns what a
 * prom-client Histogram's does (cumulative `_bucket` samples with `le`, then `+Inf`,
 * `_sum`, `_count`), so text output, JSON output, default labels and cluster aggregation all
 * treat it as one of their own.
 */
export class TaskDurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;
  /** The bounds as `le` label values, formatted once. */
  private readonly les: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly tallies: TaskTallies,
  ) {
    this.bucketName = `${name}_bucket`;
    this.sumName = `${name}_sum`;
    this.countName = `${name}_count`;
    this.les = tallies.bounds.map(String);
  }

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Sample[];
    aggregator: string;
  }> {
    const values: Sample[] = [];
    for (const tally of this.tallies.all) {
      for (let outcome = 0; outcome < DURATION_OUTCOMES.length; outcome++) {
        const durations = tally.durations[outcome];
        if (durations === undefined) continue;
        const labels = {
          queue: tally.queue,
          task: tally.task,
          outcome: DURATION_OUTCOMES[outcome]!,
        };
        let cumulative = 0;
        for (let i = 0; i < this.les.length; i++) {
          cumulative += durations.buckets[i]!;
          values.push({
            metricName: this.bucketName,
            labels: { ...labels, le: this.les[i]! },
            value: cumulative,
          });
        }
        values.push({
          metricName: this.bucketName,
          labels: { ...labels, le: '+Inf' },
          value: durations.count,
        });
        values.push({ metricName: this.sumName, labels, value: durations.sum });
        values.push({ metricName: this.countName, labels, value: durations.count });
      }
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  /** prom-client's `registry.resetMetrics()`. */
  reset(): void {
    this.tallies.resetDurations();
  }
}
