import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DelayedHost,
  DelayedModule,
  DelayedQueue,
  InjectDataQueue,
  InjectQueue,
  type DataQueue,
  NodeTask,
  Task,
} from '../../lib/index.js';
import { waitForDrained } from '../../lib/testing/index.js';
import { startApp } from '../helpers/nest-app.js';
import { useRedisCluster } from '../helpers/redis-cluster.js';
import { eventually } from '../helpers/redis-server.js';

const started = useRedisCluster();

// Two tags: the module starts one worker per tag, each blocking on its own slot.
const ORDERS = '{nest-orders}:jobs';
const MAILS = '{nest-mails}:jobs';

@Injectable()
class ClusterHandlers {
  static readonly seen: string[] = [];

  @Task({ queue: ORDERS })
  order(n: number) {
    ClusterHandlers.seen.push(`order ${n}`);
  }

  @Task({ queue: MAILS })
  mail(n: number) {
    ClusterHandlers.seen.push(`mail ${n}`);
  }
}

@Injectable()
class Clicks {
  constructor(@InjectDataQueue('{nest-clicks}') readonly clicks: DataQueue<string>) {}
}

describe('DelayedModule on a Redis Cluster', () => {
  it('takes { clusterNodes }, runs one worker per hash tag, and drains both queues', async () => {
    ClusterHandlers.seen.length = 0;
    const application = await app(
      {
        connection: { clusterNodes: [...started.cluster.nodes] },
        queue: ORDERS,
        worker: { dequeueTimeout: 100, shutdownTimeout: 2_000 },
        queues: [MAILS],
        dataQueues: ['{nest-clicks}'],
      },
      [ClusterHandlers, Clicks],
    );
    try {
      assert.equal(application.get(DelayedHost).activeWorkers.length, 2);
      const delayed = application.get(DelayedQueue);
      for (let n = 0; n < 5; n++) {
        await delayed.delay(ClusterHandlers, 'order', n);
        await delayed.delay(ClusterHandlers, 'mail', n);
      }
      await eventually(() => ClusterHandlers.seen.length === 10, 5_000);
      await waitForDrained(application, { timeout: 5_000 });
      const { clicks } = application.get(Clicks);
      await clicks.put(['x']);
      assert.deepEqual([...(await clicks.get(1)).values()], ['x']);
    } finally {
      await application.close();
    }
    assert.deepEqual(
      [...ClusterHandlers.seen].sort(),
      [0, 1, 2, 3, 4].flatMap((n) => [`mail ${n}`, `order ${n}`]).sort(),
    );
  });

  it('fails the bootstrap over a queue name without a hash tag, naming the fix', async () => {
    await assert.rejects(
      app(
        {
          connection: { clusterNodes: [...started.cluster.nodes] },
          queue: 'plain',
          worker: false,
          sweeper: false,
        },
        [],
      ),
      /queue name "plain" has no hash tag.*"\{plain\}"/s,
    );
  });
});

const SHARDS = ['{orders-0}', '{orders-1}', '{orders-2}'];

@Injectable()
class ShardedOrders {
  static readonly placed: string[] = [];
  private next = 0;
  private readonly queues: DelayedQueue[];

  constructor(
    first: DelayedQueue,
    @InjectQueue('{orders-1}') second: DelayedQueue,
    @InjectQueue('{orders-2}') third: DelayedQueue,
  ) {
    this.queues = [first, second, third];
  }

  @Task({ name: 'orders.place' })
  place(orderId: string) {
    ShardedOrders.placed.push(orderId);
  }

  enqueue(orderId: string) {
    const queue = this.queues[this.next++ % this.queues.length]!;
    return queue.enqueue(new NodeTask('orders.place', [orderId]));
  }
}

describe("the README's sharded queues", () => {
  it('spreads one kind of task over three tagged queues, served by three workers', async () => {
    const application = await app(
      {
        connection: { clusterNodes: [...started.cluster.nodes] },
        queue: SHARDS[0],
        queues: SHARDS.slice(1),
        worker: { concurrency: 100, queues: SHARDS, dequeueTimeout: 100 },
      },
      [ShardedOrders],
    );
    try {
      assert.equal(application.get(DelayedHost).activeWorkers.length, 3);
      const orders = application.get(ShardedOrders);
      const ids = Array.from({ length: 30 }, (_, i) => `order-${i}`);
      for (const id of ids) await orders.enqueue(id);
      await eventually(() => ShardedOrders.placed.length === ids.length, 5_000);
      assert.deepEqual([...ShardedOrders.placed].sort(), [...ids].sort());
    } finally {
      await application.close();
    }
  });
});

@Injectable()
class UntaggedHandler {
  @Task({ queue: 'plain-jobs' })
  run() {}
}

/** Client connections on every primary of the cluster, as the servers count them. */
async function clientsOnCluster(): Promise<number> {
  const admin = started.cluster.client();
  try {
    await admin.ping();
    const lists = await Promise.all(
      admin.nodes('master').map((node) => node.client('LIST') as Promise<string>),
    );
    return lists.reduce((sum, list) => sum + list.trim().split('\n').length, 0);
  } finally {
    admin.disconnect();
  }
}

describe('a bad queue name on a cluster', () => {
  it('fails the bootstrap before any worker starts, leaving no connection open', async () => {
    const before = await clientsOnCluster();
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedModule.forRoot({
          connection: { clusterNodes: [...started.cluster.nodes] },
          queue: '{fine}:jobs',
          worker: { dequeueTimeout: 100 },
        }),
      ],
      providers: [ClusterHandlers, UntaggedHandler],
    }).compile();
    const application = moduleRef.createNestApplication({ logger: false });
    // As an app that fails to boot and exits: no close() after the failed init.
    await assert.rejects(application.init(), /queue name "plain-jobs" has no hash tag/);
    try {
      assert.deepEqual(application.get(DelayedHost).activeWorkers, []);
      await eventually(
        async () => (await clientsOnCluster()) <= before,
        5_000,
        'connections closed',
      );
    } finally {
      await application.close();
    }
  });
});

function app(options: Parameters<typeof DelayedModule.forRoot>[0], providers: unknown[]) {
  return startApp([DelayedModule.forRoot(options)], providers);
}
