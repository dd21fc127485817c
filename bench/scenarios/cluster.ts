import { execFileSync } from 'node:child_process';
import type { Cluster } from 'ioredis';
import {
  type TestCluster,
  startCluster,
  tagsOnEachPrimary,
} from '../../test/helpers/redis-cluster.js';
import type { Placement } from '../affinity.js';
import { BullmqContender } from '../contenders/bullmq.js';
import {
  type BenchWorker,
  CONTENDER_LABELS,
  CONTENDERS,
  type Contender,
  type ContenderId,
  createContender,
} from '../contenders/index.js';
import { OursContender } from '../contenders/ours.js';
import { collectGarbage } from '../gc.js';
import type { BenchRedis } from '../redis-server.js';
import { median, perSecond, ratio } from '../stats.js';
import { countdown, fill, until, within } from './scenario.js';
import { timeDrain } from './drain.js';

/** Primaries of the cluster, and so queues (one hash tag on each primary) and workers. */
const PRIMARIES = 3;
const CONCURRENCY = 100;
const DRAIN_TIME_LIMIT_MS = 180_000;

export type ClusterShape = 'oneRedis' | 'cluster';

/** The `cluster` group: the c100 drain on one Redis and on a 3-primary Redis Cluster. */
export interface ClusterDrainResult {
  /** Why the group did not run (the cluster could not be started), or undefined. */
  readonly skipped?: string;
  readonly primaries: number;
  readonly replicasPerPrimary: number;
  /** Tasks per run, in all (on the cluster: split evenly over the queues). */
  readonly tasks: number;
  readonly concurrency: number;
  /** The queues' hash tags on the cluster, one served by each primary. */
  readonly tags: readonly string[];
  /** Where the cluster's nodes ran. */
  readonly placement: string;
  /** Tasks/s of every measured run. */
  readonly runs: Record<ContenderId, Record<ClusterShape, number[]>>;
  readonly median: Record<ContenderId, Record<ClusterShape, number>>;
  /** median(cluster) / median(one Redis), per contender. */
  readonly clusterOverOneRedis: Record<ContenderId, number>;
  /** median(ours) / median(BullMQ), per shape. */
  readonly oursOverBullmq: Record<ClusterShape, number>;
}

type Log = (line: string) => void;

/**
 * Drain at concurrency 100, one Redis against a Redis Cluster of 3 primaries without
 * replicas, for both contenders in the same run. One Redis: the drain group's c100 shape (N
 * tasks on one queue, one worker). Cluster: 3 queues named with hash tags served by the 3
 * primaries, N/3 tasks on each, one worker per queue (a worker serves the queues of one tag),
 * all 3 in this process, as the drain group's worker is; timed from starting them to every
 * task reported completed and every queue seen empty. BullMQ likewise, each queue with its
 * tag as `prefix`. The cluster's nodes are put on Redis's CPU when the bench pins (see
 * affinity.ts): otherwise they would inherit the bench's CPU.
 */
export async function clusterDrain(
  redis: BenchRedis,
  placement: Placement,
  count: number,
  warmUpCount: number,
  repeats: number,
  log: Log,
): Promise<ClusterDrainResult> {
  const perQueue = Math.max(1, Math.floor(count / PRIMARIES));
  const tasks = perQueue * PRIMARIES;
  const runs: ClusterDrainResult['runs'] = {
    ours: { oneRedis: [], cluster: [] },
    bullmq: { oneRedis: [], cluster: [] },
  };
  const base = {
    primaries: PRIMARIES,
    replicasPerPrimary: 0,
    tasks,
    concurrency: CONCURRENCY,
    runs,
  };

  let cluster: TestCluster;
  try {
    cluster = await startCluster({ primaries: PRIMARIES, replicasPerPrimary: 0 });
  } catch (error) {
    const skipped = `the cluster did not start: ${(error as Error).message.split('\n')[0]}`;
    log(`[cluster] skipped: ${skipped}`);
    return { ...base, ...summary(runs), skipped, tags: [], placement: '' };
  }
  try {
    const admin = cluster.client();
    await admin.ping();
    const where = await placeNodes(admin, placement);
    const tags = await tagsOnEachPrimary(cluster, PRIMARIES);
    log(`[cluster] ${PRIMARIES} primaries, queues ${tags.join(', ')}; ${where}`);

    const measure = async (id: ContenderId, shape: ClusterShape, n: number): Promise<number> => {
      collectGarbage();
      if (shape === 'oneRedis') {
        await redis.flushAll();
        const contender = createContender(id, redis.host, redis.port);
        await contender.open();
        try {
          return perSecond(n, await timeDrain(contender, n, CONCURRENCY));
        } finally {
          await contender.close();
        }
      }
      await Promise.all(admin.nodes('master').map((node) => node.flushall('SYNC')));
      const contenders = tags.map((tag) => clusterContender(id, cluster, tag));
      return perSecond(n, await timeClusterDrain(contenders, n / PRIMARIES));
    };

    const warmPerQueue = Math.max(1, Math.floor(warmUpCount / PRIMARIES));
    for (const id of CONTENDERS) {
      for (const shape of ['oneRedis', 'cluster'] as const) {
        await measure(id, shape, warmPerQueue * PRIMARIES);
      }
    }
    for (let repeat = 1; repeat <= repeats; repeat++) {
      // Alternate who goes first, and which shape each side runs first.
      const order: ContenderId[] = repeat % 2 === 1 ? ['ours', 'bullmq'] : ['bullmq', 'ours'];
      const shapes: ClusterShape[] =
        repeat % 2 === 1 ? ['oneRedis', 'cluster'] : ['cluster', 'oneRedis'];
      for (const id of order) {
        for (const shape of shapes) {
          const value = await measure(id, shape, tasks);
          runs[id][shape].push(value);
          log(
            `[cluster] run ${repeat}/${repeats} ${CONTENDER_LABELS[id]} ${shape === 'cluster' ? `cluster (${PRIMARIES} queues)` : 'one Redis'}: ` +
              `${Math.round(value).toLocaleString('en-US')} tasks/s`,
          );
        }
      }
    }
    return { ...base, ...summary(runs), tags, placement: where };
  } finally {
    await cluster.stop();
  }
}

function summary(
  runs: ClusterDrainResult['runs'],
): Pick<ClusterDrainResult, 'median' | 'clusterOverOneRedis' | 'oursOverBullmq'> {
  const of = (id: ContenderId) => ({
    oneRedis: median(runs[id].oneRedis),
    cluster: median(runs[id].cluster),
  });
  const medians = { ours: of('ours'), bullmq: of('bullmq') };
  return {
    median: medians,
    clusterOverOneRedis: {
      ours: ratio(medians.ours.cluster, medians.ours.oneRedis),
      bullmq: ratio(medians.bullmq.cluster, medians.bullmq.oneRedis),
    },
    oursOverBullmq: {
      oneRedis: ratio(medians.ours.oneRedis, medians.bullmq.oneRedis),
      cluster: ratio(medians.ours.cluster, medians.bullmq.cluster),
    },
  };
}

/** One contender per queue, each with its own cluster clients. */
function clusterContender(id: ContenderId, cluster: TestCluster, tag: string): Contender {
  return id === 'ours'
    ? new OursContender(() => cluster.client(), `${tag}:bench`)
    : new BullmqContender({
        // BullMQ refuses a blocking connection that gives up on a command.
        cluster: () => cluster.client({ redisOptions: { maxRetriesPerRequest: null } }),
        prefix: tag,
      });
}

/**
 * Fills `perQueue` tasks on each contender's queue, then drains them all with one worker per
 * queue started together; returns the timed milliseconds (as timeDrain, for all the queues).
 */
async function timeClusterDrain(contenders: Contender[], perQueue: number): Promise<number> {
  const total = perQueue * contenders.length;
  const workers: BenchWorker[] = [];
  try {
    for (const contender of contenders) {
      await contender.open();
      await fill(contender, perQueue);
    }
    const completed = countdown(total);
    for (const contender of contenders) {
      workers.push(
        await contender.worker({ concurrency: CONCURRENCY, onCompleted: completed.tick }),
      );
    }
    const t0 = performance.now();
    await Promise.all(workers.map((worker) => worker.start()));
    await within(completed.done, DRAIN_TIME_LIMIT_MS, `draining ${total} tasks on the cluster`);
    await Promise.all(
      contenders.map((contender) =>
        until(
          () => contender.finished(perQueue),
          10_000,
          `${contender.id}: the cluster to show ${perQueue} tasks finished on a queue`,
        ),
      ),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(contenders.map((contender) => contender.close()));
  }
}

/**
 * Puts the cluster's nodes where the bench puts its one Redis: on Redis's CPU when pinned
 * (they were started by this process, whose CPU they inherited). Returns a description.
 */
async function placeNodes(admin: Cluster, placement: Placement): Promise<string> {
  if (placement.redisCpu === undefined) return 'cluster nodes not pinned';
  const pids = await Promise.all(
    admin.nodes('all').map(async (node) => {
      const info = await node.info('server');
      return Number(/process_id:(\d+)/.exec(info)?.[1]);
    }),
  );
  for (const pid of pids) {
    if (!Number.isSafeInteger(pid)) throw new Error('INFO server has no process_id');
    execFileSync('taskset', ['-a', '-c', '-p', String(placement.redisCpu), String(pid)], {
      stdio: 'ignore',
    });
  }
  return `the ${pids.length} cluster nodes on CPU ${placement.redisCpu} with the one Redis (taskset)`;
}
