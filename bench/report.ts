import type { ContenderId } from './contenders/index.js';
import { formatCount, formatRatio, formatValue, mib } from './format.js';
import type { MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { CeilingResult } from './scenarios/ceiling.js';
import type { ClusterDrainResult } from './scenarios/cluster.js';
import type { DataResult } from './scenarios/data.js';
import type { PeerResult } from './scenarios/peers.js';
import type { PairScenario, Target } from './scenarios/scenario.js';
import type { SoakResult } from './scenarios/soak.js';
import type { Sizes } from './sizes.js';
import { median, ratio } from './stats.js';

/** One run of one scenario by one contender, exactly as measured. */
export interface RawRun {
  readonly scenario: string;
  readonly contender: ContenderId;
  /** 0 is the discarded warm-up (smaller sizes); measured runs are 1..repeats. */
  readonly repeat: number;
  readonly warmUp: boolean;
  readonly metrics: Record<string, number>;
  /** Wall time of the whole run, set-up included (not a result). */
  readonly wallSeconds: number;
}

export interface MetricSummary {
  readonly id: string;
  readonly scenario: string;
  readonly label: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly tasks: number | undefined;
  readonly runs: Record<ContenderId, number[]>;
  readonly median: Record<ContenderId, number>;
  /** median(ours) / median(BullMQ). */
  readonly ratio: number;
  readonly target?: Target;
  readonly targetMet?: boolean;
}

export interface BenchReport {
  readonly schema: 1;
  readonly mode: 'full' | 'smoke';
  readonly date: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly command: string;
  readonly options: BenchOptions;
  readonly sizes: Sizes;
  readonly machine: MachineInfo;
  readonly method: readonly string[];
  readonly metrics: readonly MetricSummary[];
  readonly ceiling: readonly CeilingResult[];
  /** Why the ceiling was not measured (redis-benchmark missing). */
  readonly ceilingSkipped?: string;
  readonly peers: readonly PeerResult[];
  /** DataQueue against rpqueue's data queue (the `data` group). */
  readonly data?: DataResult;
  /** The c100 drain on a 3-primary Redis Cluster against one Redis (the `cluster` group). */
  readonly cluster?: ClusterDrainResult;
  readonly soak: readonly SoakResult[];
  readonly soakTarget: { readonly text: string; readonly met: boolean | undefined };
  readonly raw: readonly RawRun[];
}

export const METHOD = [
  'One throw-away redis-server on a free loopback port (--save "" --appendonly no), shared by both contenders; both run in the same Node process.',
  'Redis is pinned to its own CPU and the bench (with every process it starts) to the other(s), so that runs do not flip between "same core" and "two cores" scheduling, which on this VM changes round-trip-bound figures up to 3x (--no-pin turns this off).',
  'Same payload for both: handler/job name "Bench:noop", one argument (the task index); no-op handlers.',
  "Each run starts from FLUSHALL and a freshly opened contender; connecting (and a new worker's connecting) is off the clock, the library's own start-up work (our slot claim, BullMQ's run()) is on it.",
  'A discarded warm-up run (smaller sizes) comes first; then the measured runs alternate which contender goes first; a full GC between runs.',
  'Drains end when the library reported every task completed and one more round trip shows Redis empty of waiting/held tasks (both sides pay it).',
  'BullMQ keeps its defaults: completed jobs are kept, the events stream is on; that is what "bytes per finished task" measures.',
  'Latency: one task at a time on an idle worker, from just before the add call to the first line of the handler, then a 1 ms gap.',
  'Results: a "Bench:echo" task whose handler returns its argument, on a worker of concurrency 100; each round trip from just before the enqueue call (ours: queue.call; BullMQ: queue.add) to the result in hand (ours: handle.result; BullMQ: job.waitUntilFinished on one QueueEvents), 1 or 100 in flight; one round trip off the clock first (it opens our shared result subscriber; the QueueEvents is connected before it).',
  'Medians of the measured runs; ratio = nestjs-delayed / BullMQ; the "better" column says which direction wins.',
];

export function summarise(
  scenarios: readonly PairScenario[],
  raw: readonly RawRun[],
  sizes: Sizes,
): MetricSummary[] {
  const rows: MetricSummary[] = [];
  for (const scenario of scenarios) {
    for (const metric of scenario.metrics) {
      const runsOf = (contender: ContenderId) =>
        raw
          .filter((r) => !r.warmUp && r.scenario === scenario.id && r.contender === contender)
          .map((r) => r.metrics[metric.id])
          .filter((v): v is number => typeof v === 'number');
      const runs = { ours: runsOf('ours'), bullmq: runsOf('bullmq') };
      if (runs.ours.length === 0 && runs.bullmq.length === 0) continue;
      const medians = { ours: median(runs.ours), bullmq: median(runs.bullmq) };
      const r = ratio(medians.ours, medians.bullmq);
      rows.push({
        id: metric.id,
        scenario: scenario.id,
        label: metric.label,
        unit: metric.unit,
        better: metric.better,
        tasks: metric.size?.(sizes),
        runs,
        median: medians,
        ratio: r,
        ...(metric.target
          ? { target: metric.target, targetMet: meets(metric.target, medians.ours, r) }
          : {}),
      });
    }
  }
  return rows;
}

function meets(target: Target, ours: number, r: number): boolean | undefined {
  const value = target.of === 'ratio' ? r : ours;
  if (!Number.isFinite(value)) return undefined;
  switch (target.op) {
    case '>=':
      return value >= target.value;
    case '<=':
      return value <= target.value;
    case '<':
      return value < target.value;
    case '==':
      return value === target.value;
  }
}

export const SOAK_RSS_TARGET_MB = 10;

export function soakTarget(soak: readonly SoakResult[]): {
  text: string;
  met: boolean | undefined;
} {
  const ours = soak.find((s) => s.contender === 'ours');
  return {
    text: `< ${SOAK_RSS_TARGET_MB} MB`,
    met: ours ? mib(ours.rssGrowth) < SOAK_RSS_TARGET_MB : undefined,
  };
}

const yesNo = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'yes' : '**no**');

export function toMarkdown(report: BenchReport, chartFile: string | undefined): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(
    `# nestjs-delayed vs BullMQ: ${report.date}${report.mode === 'smoke' ? ' (smoke run, not a result)' : ''}`,
  );
  out.push('');
  out.push(
    `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}. Node ${m.node}, Redis ${m.redis}, ` +
      `nestjs-delayed ${m.nestjsDelayed} (engine at ${m.engine}), BullMQ ${m.bullmq}, ioredis ${m.ioredis}. ` +
      `CPU placement: ${m.placement}.`,
  );
  out.push('');
  out.push(
    `Command: \`${report.command}\`: ${report.options.repeats} measured run(s) per scenario and contender after a discarded ` +
      `warm-up, base N = ${formatCount(report.options.n)}, ${Math.round(report.seconds)} s in all. ` +
      `Medians; ratio = nestjs-delayed / BullMQ, and the "better" column says which direction wins.`,
  );
  out.push('');
  if (chartFile) {
    out.push(`![throughput chart](${chartFile})`);
    out.push('');
  }
  if (report.metrics.length > 0) {
    out.push('| Scenario | Tasks | nestjs-delayed | BullMQ | Ratio | Better | Target | Met |');
    out.push('| --- | ---: | ---: | ---: | ---: | --- | --- | --- |');
    for (const row of report.metrics) {
      out.push(
        `| ${row.label} | ${row.tasks === undefined ? '' : formatCount(row.tasks)} | ${formatValue(row.median.ours, row.unit)} | ` +
          `${formatValue(row.median.bullmq, row.unit)} | ${formatRatio(row.ratio)} | ${row.better} | ` +
          `${row.target ? `${row.target.text}${row.target.of === 'ours' ? ' (ours)' : ''}` : ''} | ` +
          `${row.target ? yesNo(row.targetMet) : ''} |`,
      );
    }
    out.push('');
  }
  if (report.soak.length > 0) {
    out.push('## Worker RSS over a soak (concurrency 100, worker in its own process)');
    out.push('');
    out.push(
      '| Worker | Tasks done | Time | Tasks/s | RSS start | RSS at 5 % (after GC) | RSS peak | RSS end (idle, after GC) | Growth (end - 5 %) | Heap at 5 % / end |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of report.soak) {
      out.push(
        `| ${s.label} | ${formatCount(s.done)}${s.timedOut ? ` of ${formatCount(s.planned)} (time limit)` : ''} | ` +
          `${s.seconds.toFixed(0)} s | ${formatCount(s.tasksPerSecond)} | ${mib(s.rssStart).toFixed(1)} MB | ` +
          `${mib(s.rssWarm).toFixed(1)} MB | ${mib(s.rssPeak).toFixed(1)} MB | ${mib(s.rssFinal).toFixed(1)} MB | ` +
          `${mib(s.rssGrowth).toFixed(1)} MB | ${mib(s.heapWarm).toFixed(1)} / ${mib(s.heapFinal).toFixed(1)} MB |`,
      );
    }
    out.push('');
    out.push(
      `Target: nestjs-delayed RSS growth ${report.soakTarget.text}: ${yesNo(report.soakTarget.met)}.`,
    );
    out.push('');
  }
  if (report.peers.length > 0) {
    const oursC1 = report.metrics.find((r) => r.id === 'drain.c1')?.median.ours;
    out.push('## The delayed family: worker drain of the same N no-op tasks');
    out.push('');
    out.push('| Worker | Concurrency | Tasks | Tasks/s (median) | nestjs-delayed c1 / this |');
    out.push('| --- | ---: | ---: | ---: | ---: |');
    if (oursC1 !== undefined) {
      out.push(
        `| nestjs-delayed | 1 | ${formatCount(report.sizes.drainC1)} | ${formatCount(oursC1)} | 1.00x |`,
      );
    }
    for (const p of report.peers) {
      if (!p.available) {
        out.push(`| ${p.peer} | | | skipped: ${p.reason} | |`);
        continue;
      }
      out.push(
        `| ${p.peer} ${p.version ?? ''} | ${p.concurrency} | ${formatCount(p.count ?? 0)} | ${formatCount(p.median ?? NaN)} | ` +
          `${oursC1 === undefined ? 'n/a' : formatRatio(ratio(oursC1, p.median ?? NaN))} |`,
      );
    }
    out.push('');
  }
  if (report.data) dataMarkdown(report.data, out);
  if (report.cluster) clusterMarkdown(report.cluster, report.machine.cores, out);
  if (report.ceiling.length > 0) {
    out.push('## The Redis ceiling (redis-benchmark, 50 clients)');
    out.push('');
    const tests = Object.keys(report.ceiling[0]!.opsPerSecond);
    out.push(`| Pipelining | ${tests.join(' | ')} |`);
    out.push(`| --- | ${tests.map(() => '---:').join(' | ')} |`);
    for (const c of report.ceiling) {
      out.push(
        `| ${c.pipeline > 1 ? `-P ${c.pipeline}` : 'none'} | ${tests.map((t) => formatValue(c.opsPerSecond[t] ?? NaN, 'ops/s')).join(' | ')} |`,
      );
    }
    out.push('');
    out.push(`Commands: ${report.ceiling.map((c) => `\`${c.command}\``).join(', ')}.`);
    out.push('');
  }
  if (report.ceilingSkipped) {
    out.push(`## The Redis ceiling\n\nSkipped: ${report.ceilingSkipped}.\n`);
  }
  out.push('## How it is measured');
  out.push('');
  for (const line of report.method) out.push(`- ${line}`);
  out.push('');
  out.push(
    'Every raw run is in the JSON file next to this one. Timings are a report, never a test assertion.',
  );
  out.push('');
  return out.join('\n');
}

function dataMarkdown(data: DataResult, out: string[]): void {
  const rpqueue = data.rpqueue.available ? `rpqueue ${data.rpqueue.version}` : 'rpqueue';
  out.push(`## Data queues: DataQueue vs ${rpqueue} (issue 12)`);
  out.push('');
  out.push(
    `Put N items in batches of B, then get B with a ${data.visibilityTimeoutMs / 1000} s visibility timeout and mark them done, ` +
      'until the queue is empty; one call at a time on both sides (rpqueue: `put_data`, `get_data(B, vis_timeout=30)`, ' +
      '`done_data`, from its own Python process; ours: `put`, `get(B)`, `done(batch)`; the get(done) rows: ' +
      '`get(B, { done: batch })`, the done carried by the next get, one call per batch, against rpqueue\'s get+done). Items: `{"n": i, "user": "u123", ' +
      '"tags": ["a", "b"]}`. Every run checks that each item came back intact, was done once and that Redis is empty at the end.' +
      (data.rpqueue.available ? ` redis-py ${data.rpqueue.redisPy}.` : ''),
  );
  out.push('');
  out.push(`| Operation | Batch | Items | nestjs-delayed | ${rpqueue} | Ratio | Target | Met |`);
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const row of data.rows) {
    const single = row.loops === 1;
    const label = single
      ? row.operation
      : `${row.operation}, ${row.loops} loops in flight (ours only)`;
    const theirs = single
      ? data.rpqueue.available
        ? formatValue(row.median.rpqueue, 'items/s')
        : 'skipped'
      : '';
    out.push(
      `| ${label} | ${formatCount(row.batch)} | ${formatCount(row.items)} | ${formatValue(row.median.ours, 'items/s')} | ` +
        `${theirs} | ${single ? formatRatio(row.ratio) : ''} | ${single ? data.target.text : ''} | ` +
        `${single ? yesNo(row.targetMet) : ''} |`,
    );
  }
  out.push('');
  if (!data.rpqueue.available) {
    out.push(`rpqueue skipped: ${data.rpqueue.reason}.`);
    out.push('');
  }
}

function clusterMarkdown(cluster: ClusterDrainResult, cores: number, out: string[]): void {
  out.push(
    `## Drain at concurrency ${cluster.concurrency}: a ${cluster.primaries}-primary Redis Cluster against one Redis`,
  );
  out.push('');
  if (cluster.skipped !== undefined) {
    out.push(`Skipped: ${cluster.skipped}.`);
    out.push('');
    return;
  }
  const perQueue = cluster.tasks / cluster.primaries;
  out.push(
    `${formatCount(cluster.tasks)} no-op tasks. One Redis: one queue, one worker of concurrency ${cluster.concurrency} ` +
      `(the drain group's c${cluster.concurrency} shape, measured again here). Cluster: ${cluster.primaries} primaries, ` +
      `${cluster.replicasPerPrimary} replicas, ${cluster.primaries} queues with the hash tags ${cluster.tags.join(', ')} ` +
      `(one served by each primary; BullMQ: the tag as its \`prefix\`), ${formatCount(perQueue)} tasks on each, ` +
      `one worker per queue of concurrency ${cluster.concurrency}, all in the bench process; timed from starting ` +
      `the workers until every task is reported completed and every queue is seen empty. ` +
      `Placement: ${cluster.placement}. The machine has ${cores} cores: the ${cluster.primaries} primaries share ` +
      `what the one Redis has and the workers compete with each other for the rest, so this is a cluster on one ` +
      `small machine, not the scaling it buys on separate hosts. The cluster side has ${cluster.primaries} workers, ` +
      `${cluster.primaries * cluster.concurrency} tasks in flight, against one worker's ${cluster.concurrency}.`,
  );
  out.push('');
  out.push(
    '| Drain, concurrency 100 | nestjs-delayed | BullMQ | Ratio (nestjs-delayed / BullMQ) |',
  );
  out.push('| --- | ---: | ---: | ---: |');
  const shapes = [
    ['oneRedis', 'one Redis, 1 queue, 1 worker'],
    ['cluster', `cluster, ${cluster.primaries} queues, ${cluster.primaries} workers`],
  ] as const;
  for (const [shape, label] of shapes) {
    out.push(
      `| ${label} | ${formatValue(cluster.median.ours[shape], 'tasks/s')} | ` +
        `${formatValue(cluster.median.bullmq[shape], 'tasks/s')} | ${formatRatio(cluster.oursOverBullmq[shape])} |`,
    );
  }
  out.push(
    `| cluster / one Redis | ${formatRatio(cluster.clusterOverOneRedis.ours)} | ` +
      `${formatRatio(cluster.clusterOverOneRedis.bullmq)} | |`,
  );
  out.push('');
}
