import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import {
  findQueues,
  NodeTask,
  Queue,
  QueueInspector,
  QueueEvents,
  type QueueEvent,
  EventPublisher,
  HandlerRegistry,
  Worker,
} from '../../lib/core/index.js';
import { encodeTask } from '../../lib/core/protocol/codec.js';
import { runCli } from '../helpers/cli.js';
import { tagsOnEachPrimary, useRedisCluster } from '../helpers/redis-cluster.js';
import { eventually, quietLogger, uniqueName } from '../helpers/redis-server.js';

const started = useRedisCluster();
let redis: Cluster;
let tags: string[];

describe('Redis Cluster: looking inside', () => {
  before(async () => {
    redis = started.cluster.client();
    tags = await tagsOnEachPrimary(started.cluster, 3);
  });
  after(() => redis?.disconnect());

  it('finds the queues of every primary, and the CLI lists them with --cluster', async () => {
    const names = tags.map((tag) => `${tag}:${uniqueName('found')}`);
    for (const name of names) await new Queue(redis, name).enqueue(new NodeTask('X:run'));
    const found = await findQueues(redis);
    for (const name of names) assert.ok(found.includes(name), `${name} in ${found.join(', ')}`);

    const { port } = started.cluster.nodes[0]!;
    const run = await runCli([
      '--cluster',
      '--url',
      `redis://127.0.0.1:${port}`,
      '--json',
      'stats',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const listed = (JSON.parse(run.stdout) as { queues: { queue: string; waiting: number }[] })
      .queues;
    for (const name of names) {
      assert.equal(listed.find((row) => row.queue === name)?.waiting, 1, name);
    }
  });

  it("shows running tasks with each worker's liveness, peer ids in other slots included", async () => {
    const queue = new Queue(redis, `${tags[0]}:${uniqueName('running')}`);
    const ours = `${tags[0]}0123`;
    const peer = 'f'.repeat(32); // a bare id, as the peers make them: another slot
    await redis.set(ours, '1', 'PX', 10_000);
    await redis.set(peer, '1', 'PX', 10_000);
    const bytes = encodeTask(new NodeTask('X:run'));
    await redis.hset(queue.keys.processing, ours, bytes, peer, bytes, `${tags[0]}dead`, bytes);
    const page = await new QueueInspector(queue).running();
    const alive = Object.fromEntries(page.items.map((item) => [item.workerId, item.alive]));
    assert.deepEqual(alive, { [ours]: true, [peer]: true, [`${tags[0]}dead`]: false });
  });

  it("carries a queue's events over the cluster's Pub/Sub", async () => {
    const queue = new Queue(redis, `${tags[1]}:${uniqueName('events')}`);
    const events = new QueueEvents(redis, [queue.name], quietLogger);
    const heard: QueueEvent[] = [];
    events.on('completed', (event) => void heard.push(event));
    await events.start();
    const handlers = new HandlerRegistry();
    handlers.register('E:run', () => 'ok');
    const worker = new Worker({ queues: [queue], handlers, logger: quietLogger });
    const publisher = new EventPublisher(redis, { logger: quietLogger });
    publisher.attach(worker);
    await worker.start();
    try {
      await queue.enqueue(new NodeTask('E:run'));
      await eventually(() => heard.length === 1, 5_000, 'the event heard');
    } finally {
      await worker.close();
      await events.close();
    }
    assert.equal(heard[0]!.queue, queue.name);
  });

  // Last in the file: it puts a password on every node.
  it("gives the URL's password to every node of the cluster, not only the one named", async () => {
    const name = `${tags[2]}:${uniqueName('auth')}`;
    await new Queue(redis, name).enqueue(new NodeTask('X:run'));
    for (const node of redis.nodes()) {
      await node.config('SET', 'masterauth', 'pw');
      await node.config('SET', 'requirepass', 'pw');
    }
    const { port } = started.cluster.nodes[0]!;
    const run = await runCli([
      '--cluster',
      '--url',
      `redis://:pw@127.0.0.1:${port}`,
      '--json',
      'stats',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const listed = (JSON.parse(run.stdout) as { queues: { queue: string }[] }).queues;
    assert.ok(
      listed.some((row) => row.queue === name),
      run.stdout,
    );
  });
});
