import { Counter, Histogram, Registry } from 'prom-client';

/**
 * What an operator's app does on every task event, the same for both libraries: count it
 * by queue and task name in Prometheus counters and observe its duration in a histogram
 * (label children are looked up per event, as an app would).
 */
export class OperatorCounters {
  readonly registry = new Registry();
  private readonly started = new Counter({
    name: 'bench_tasks_started_total',
    help: 'started',
    labelNames: ['queue', 'task'],
    registers: [this.registry],
  });
  private readonly completed = new Counter({
    name: 'bench_tasks_completed_total',
    help: 'completed',
    labelNames: ['queue', 'task'],
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: 'bench_tasks_failed_total',
    help: 'failed',
    labelNames: ['queue', 'task'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'bench_task_duration_seconds',
    help: 'duration',
    labelNames: ['queue', 'task'],
    registers: [this.registry],
  });

  onStarted(queue: string, task: string): void {
    this.started.labels(queue, task).inc();
  }

  onCompleted(queue: string, task: string, ms: number): void {
    this.completed.labels(queue, task).inc();
    this.duration.labels(queue, task).observe(ms / 1000);
  }

  onFailed(queue: string, task: string): void {
    this.failed.labels(queue, task).inc();
  }
}
