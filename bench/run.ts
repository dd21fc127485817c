import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Placement, planPlacement } from './affinity.js';
import { throughputChart } from './chart.js';
import {
  CONTENDER_LABELS,
  CONTENDERS,
  type ContenderId,
  createContender,
} from './contenders/index.js';
import { formatRatio, formatValue } from './format.js';
import { collectGarbage } from './gc.js';
import { machineInfo } from './machine.js';
import { type BenchOptions, parseOptions, USAGE, UsageError, wants } from './options.js';
import { resultsDir } from './paths.js';
import { type BenchRedis, startBenchRedis } from './redis-server.js';
import {
  type BenchReport,
  METHOD,
  type RawRun,
  soakTarget,
  summarise,
  toMarkdown,
} from './report.js';
import { bulkAdd, concurrentAdd, sequentialAdd } from './scenarios/add.js';
import { type CeilingResult, ceilingUnavailable, redisCeiling } from './scenarios/ceiling.js';
import { type ClusterDrainResult, clusterDrain } from './scenarios/cluster.js';
import { type DataResult, dataQueues } from './scenarios/data.js';
import { drain } from './scenarios/drain.js';
import { latency } from './scenarios/latency.js';
import { memory } from './scenarios/memory.js';
import {
  backoffRetry,
  idleFarFuture,
  lateness,
  periodicTicks,
  rateLimited,
  sameInstant,
  scheduledBulkAdd,
  scheduledMemory,
  scheduledSequentialAdd,
} from './scenarios/scheduled.js';
import { GO_PEER, type PeerResult, pythonPeerDrain } from './scenarios/peers.js';
import { instrumentedDrain } from './scenarios/operate.js';
import { resultMemory, resultRoundTrip } from './scenarios/results.js';
import type { PairScenario } from './scenarios/scenario.js';
import { soak, type SoakResult } from './scenarios/soak.js';
import { type Sizes, sizesFor, warmUpSizes } from './sizes.js';

/**
 * `npm run bench`: nestjs-delayed against BullMQ on one throw-away Redis, then the Redis
 * ceiling, the delayed family picture, data queues against rpqueue, the c100 drain on a
 * Redis Cluster against one Redis and (with --soak) the
 * worker RSS soak. Progress goes
 * to stderr; the markdown table to stdout and, with the JSON and the SVG chart, to
 * bench/results/.
 */
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const PAIR_SCENARIOS: readonly PairScenario[] = [
  sequentialAdd,
  concurrentAdd,
  bulkAdd(50),
  bulkAdd(1_000),
  drain(1),
  drain(100),
  latency(1),
  latency(100),
  memory,
  scheduledSequentialAdd,
  scheduledBulkAdd,
  lateness('idle'),
  lateness('draining'),
  sameInstant,
  backoffRetry,
  periodicTicks,
  rateLimited,
  scheduledMemory,
  idleFarFuture,
  resultRoundTrip(1),
  resultRoundTrip(100),
  resultMemory,
  instrumentedDrain,
];

async function runOnce(
  redis: BenchRedis,
  scenario: PairScenario,
  id: ContenderId,
  sizes: Sizes,
  repeat: number,
  warmUp: boolean,
): Promise<RawRun> {
  await redis.flushAll();
  collectGarbage();
  const contender = createContender(id, redis.host, redis.port);
  const t0 = performance.now();
  await contender.open();
  try {
    const metrics = await scenario.run({ redis, sizes }, contender);
    return {
      scenario: scenario.id,
      contender: id,
      repeat,
      warmUp,
      metrics,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await contender.close();
  }
}

function describeRun(scenario: PairScenario, run: RawRun): string {
  return scenario.metrics
    .filter((m) => run.metrics[m.id] !== undefined && m.unit !== 'keys')
    .slice(0, 3)
    .map((m) => formatValue(run.metrics[m.id]!, m.unit))
    .join(', ');
}

async function runPairs(redis: BenchRedis, options: BenchOptions, sizes: Sizes): Promise<RawRun[]> {
  const scenarios = PAIR_SCENARIOS.filter((s) => wants(options, s.group));
  const raw: RawRun[] = [];
  if (scenarios.length === 0) return raw;
  log('Warm-up (discarded)');
  const warm = warmUpSizes(options.n);
  for (const scenario of scenarios) {
    for (const id of CONTENDERS) raw.push(await runOnce(redis, scenario, id, warm, 0, true));
  }
  for (let repeat = 1; repeat <= options.repeats; repeat++) {
    for (const [k, scenario] of scenarios.entries()) {
      // Alternate who goes first, across repeats and across scenarios.
      const order: ContenderId[] = (repeat + k) % 2 === 1 ? ['ours', 'bullmq'] : ['bullmq', 'ours'];
      for (const id of order) {
        const run = await runOnce(redis, scenario, id, sizes, repeat, false);
        raw.push(run);
        log(
          `[${scenario.id}] run ${repeat}/${options.repeats} ${CONTENDER_LABELS[id]}: ${describeRun(scenario, run)}`,
        );
      }
    }
  }
  return raw;
}

async function runCeiling(
  redis: BenchRedis,
  sizes: Sizes,
): Promise<{ results: CeilingResult[]; skipped?: string }> {
  const skipped = await ceilingUnavailable();
  if (skipped) {
    log(`[ceiling] skipped: ${skipped}`);
    return { results: [], skipped };
  }
  const results: CeilingResult[] = [];
  for (const pipeline of [16, 1]) {
    const result = await redisCeiling(redis, sizes.ceilingRequests, pipeline);
    log(
      `[ceiling] ${pipeline > 1 ? `-P ${pipeline}` : 'no pipelining'}: ` +
        Object.entries(result.opsPerSecond)
          .map(([test, ops]) => `${test} ${formatValue(ops, 'ops/s')}`)
          .join(', '),
    );
    results.push(result);
  }
  return { results };
}

async function runPeers(
  redis: BenchRedis,
  options: BenchOptions,
  sizes: Sizes,
): Promise<PeerResult[]> {
  const python = await pythonPeerDrain(redis, sizes.peerDrain, options.repeats, log);
  for (const peer of [python, GO_PEER]) {
    if (!peer.available) log(`[peers] ${peer.peer}: skipped, ${peer.reason}`);
  }
  return [python, GO_PEER];
}

async function runData(
  redis: BenchRedis,
  options: BenchOptions,
  sizes: Sizes,
): Promise<DataResult> {
  const result = await dataQueues(redis, sizes, options.repeats, log);
  for (const row of result.rows) {
    if (row.loops !== 1 || !Number.isFinite(row.ratio)) continue;
    log(
      `[data] ${row.operation} batch ${row.batch}: ${formatValue(row.median.ours, 'items/s')} vs rpqueue ` +
        `${formatValue(row.median.rpqueue, 'items/s')}, ${row.ratio.toFixed(2)}x`,
    );
  }
  return result;
}

async function runCluster(
  redis: BenchRedis,
  placement: Placement,
  options: BenchOptions,
  sizes: Sizes,
): Promise<ClusterDrainResult> {
  const result = await clusterDrain(
    redis,
    placement,
    sizes.drainC100,
    warmUpSizes(options.n).drainC100,
    options.repeats,
    log,
  );
  if (result.skipped === undefined) {
    for (const id of CONTENDERS) {
      log(
        `[cluster] ${CONTENDER_LABELS[id]}: one Redis ${formatValue(result.median[id].oneRedis, 'tasks/s')}, ` +
          `cluster ${formatValue(result.median[id].cluster, 'tasks/s')}, ${formatRatio(result.clusterOverOneRedis[id])}`,
      );
    }
  }
  return result;
}

async function runSoak(redis: BenchRedis): Promise<SoakResult[]> {
  const results: SoakResult[] = [];
  for (const id of CONTENDERS) {
    log(`[soak] ${CONTENDER_LABELS[id]}...`);
    const result = await soak(redis, id, log);
    log(
      `[soak] ${CONTENDER_LABELS[id]}: ${result.done.toLocaleString('en-US')} tasks in ${result.seconds.toFixed(0)} s, ` +
        `RSS growth ${(result.rssGrowth / 2 ** 20).toFixed(1)} MB`,
    );
    results.push(result);
  }
  return results;
}

function outputName(options: BenchOptions, date: string): { base: string; latest: boolean } {
  if (options.smoke) return { base: `smoke-${date}`, latest: false };
  const suffix =
    `${options.soak ? '-soak' : ''}${options.only ? `-only-${options.only.join('-')}` : ''}` +
    `${options.pin ? '' : '-unpinned'}`;
  return { base: `${date}${suffix}`, latest: options.only === undefined && options.pin };
}

function writeResults(
  report: BenchReport,
  options: BenchOptions,
): { markdown: string; files: string[] } {
  mkdirSync(resultsDir, { recursive: true });
  const { base, latest } = outputName(options, report.date);
  const files: string[] = [];
  const write = (name: string, text: string) => {
    writeFileSync(join(resultsDir, name), text);
    files.push(join('bench', 'results', name));
  };
  const chartRows = report.metrics.filter((row) => row.unit === 'tasks/s');
  const m = report.machine;
  const svg =
    chartRows.length > 0
      ? throughputChart(
          chartRows,
          `nestjs-delayed vs BullMQ ${m.bullmq}: throughput (${report.date})`,
          `${m.cpuModel}, ${m.cores} cores · Node ${m.node} · Redis ${m.redis} · median of ${options.repeats} run(s)`,
        )
      : undefined;
  const markdown = toMarkdown(report, svg ? `${base}.svg` : undefined);
  write(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  write(`${base}.md`, markdown);
  if (svg) write(`${base}.svg`, svg);
  if (latest) {
    write('latest.md', toMarkdown(report, svg ? 'latest.svg' : undefined));
    if (svg) write('latest.svg', svg);
  }
  return { markdown, files };
}

function timeLimitMs(options: BenchOptions): number {
  // The cluster group adds a cluster's start and stop and four small drains (about 10 s).
  if (options.smoke) return 180_000;
  const scale = Math.max(1, options.n / 5_000) * Math.max(1, options.repeats / 3);
  return Math.round(30 * 60_000 * scale) + (options.soak ? 10 * 60_000 : 0);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.message) log(error.message);
      log(USAGE);
      process.exit(error.message ? 2 : 0);
    }
    throw error;
  }
  const limit = timeLimitMs(options);
  setTimeout(() => {
    log(`The bench exceeded its time limit of ${Math.round(limit / 1000)} s; stopping.`);
    process.exit(1);
  }, limit).unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => process.exit(130));

  const sizes = sizesFor(options.n, options.smoke);
  const startedAt = new Date();
  const placement = planPlacement(options.pin);
  const redis = await startBenchRedis(placement.redisPrefix);
  try {
    const machine = machineInfo(redis.version, placement.description);
    log(
      `Bench${options.smoke ? ' (smoke)' : ''}: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ` +
        `Redis ${machine.redis} on port ${redis.port}, BullMQ ${machine.bullmq}; n=${options.n}, repeats=${options.repeats}` +
        `${options.soak ? ', soak' : ''}; ${placement.description}`,
    );
    const raw = await runPairs(redis, options, sizes);
    const scenarios = PAIR_SCENARIOS.filter((s) => wants(options, s.group));
    const ceiling = wants(options, 'ceiling') ? await runCeiling(redis, sizes) : { results: [] };
    const peers = wants(options, 'peers') ? await runPeers(redis, options, sizes) : [];
    const data = wants(options, 'data') ? await runData(redis, options, sizes) : undefined;
    const cluster = wants(options, 'cluster')
      ? await runCluster(redis, placement, options, sizes)
      : undefined;
    const soakResults = options.soak ? await runSoak(redis) : [];
    const finishedAt = new Date();
    const report: BenchReport = {
      schema: 1,
      mode: options.smoke ? 'smoke' : 'full',
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
      command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
      options,
      sizes,
      machine,
      method: METHOD,
      metrics: summarise(scenarios, raw, sizes),
      ceiling: ceiling.results,
      ...(ceiling.skipped ? { ceilingSkipped: ceiling.skipped } : {}),
      peers,
      ...(data ? { data } : {}),
      ...(cluster ? { cluster } : {}),
      soak: soakResults,
      soakTarget: soakTarget(soakResults),
      raw,
    };
    const { markdown, files } = writeResults(report, options);
    process.stdout.write(`${markdown}\n`);
    log(`Wrote ${files.join(', ')}`);
  } finally {
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`Bench failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
