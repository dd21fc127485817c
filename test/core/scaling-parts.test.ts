import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  clusterNameProblem,
  connectionProblem,
  hashTag,
  InvalidOptionsError,
  NodeTask,
  NotReplicatedError,
  openConnection,
  Queue,
  requeueLostChecked,
} from '../../lib/core/index.js';
import { encodeTask } from '../../lib/core/protocol/codec.js';
import { scripts } from '../../lib/core/redis/lua-scripts.js';
import { spawnRedis, stopProcess, freePort } from '../helpers/redis-server.js';
import { connectWhenUp } from '../helpers/redis-process.js';
import { useRedisServer, uniqueName } from '../helpers/redis-server.js';

// Its own server: a replica is attached to it.
const db = useRedisServer({ private: true });

describe('hash tags', () => {
  it("reads a name's hash tag as Redis Cluster does", () => {
    assert.equal(hashTag('{orders}'), 'orders');
    assert.equal(hashTag('app:{orders}:emails'), 'orders');
    assert.equal(hashTag('{a}{b}'), 'a', 'the first one');
    assert.equal(hashTag('{}orders'), undefined, 'an empty tag hashes the whole key');
    assert.equal(hashTag('{orders'), undefined);
    assert.equal(hashTag('orders}'), undefined);
    assert.equal(hashTag('x{}{y}'), undefined, 'only the first { counts');
  });

  it('names the fix for a name without one, and passes a tagged one', () => {
    assert.match(clusterNameProblem('queue', 'orders')!, /name it "\{orders\}"/);
    assert.match(clusterNameProblem('queue', '{}x')!, /name it "\{x\}"/);
    assert.equal(clusterNameProblem('queue', '{orders}'), undefined);
  });

  it('takes { clusterNodes } as a connection, and refuses an empty list', () => {
    assert.equal(
      connectionProblem({ clusterNodes: [{ host: '127.0.0.1', port: 7000 }] }),
      undefined,
    );
    assert.match(connectionProblem({ clusterNodes: [] })!, /at least one node/);
  });
});

describe('the compare-and-set sweep', () => {
  it('requeues a dead entry only if it still holds the bytes the sweeper read', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const [a, b] = ['a', 'b'].map((arg) => encodeTask(new NodeTask('X:run', [arg])));
    await db.redis.hset(queue.keys.processing, 'gone1', a!, 'gone2', a!);
    // gone2 released its task and took another before the script ran: it keeps it.
    await db.redis.hset(queue.keys.processing, 'gone2', b!);
    const reply = await scripts.requeueLost.run(db.redis, queue.keys, [
      'given',
      'gone1',
      a!,
      'gone2',
      a!,
    ]);
    assert.deepEqual(reply, [1, 1, 0]);
    assert.deepEqual(await db.redis.hkeys(queue.keys.processing), ['gone2']);
    assert.deepEqual(await db.redis.lrangeBuffer(queue.keys.tasks, 0, -1), [a]);
  });

  it('reads liveness outside the script: live workers keep their tasks', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const task = encodeTask(new NodeTask('X:run'));
    const live = uniqueName('live');
    await db.redis.set(live, '1', 'PX', 10_000);
    await db.redis.hset(queue.keys.processing, live, task, uniqueName('dead'), task);
    assert.deepEqual(await requeueLostChecked(queue), {
      requeued: 1,
      notificationsAdded: 1,
      notificationsDropped: 0,
    });
    assert.deepEqual(await db.redis.hkeys(queue.keys.processing), [live]);
  });
});

describe('durable writes', () => {
  it('check their options', () => {
    assert.throws(
      () => new Queue(db.redis, 'x', { durable: { replicas: 0 } }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /durable.replicas must be a positive integer/.test(error.message),
    );
    assert.throws(() => new Queue(db.redis, 'x', { durable: 'yes' as never }), /durable must be/);
  });

  it('fail with NotReplicatedError when no replica confirms, and the task is written all the same', async () => {
    const queue = new Queue(db.redis, uniqueName(), { durable: { replicas: 1, timeout: 50 } });
    await assert.rejects(
      queue.enqueue(new NodeTask('X:run')),
      (error: unknown) =>
        error instanceof NotReplicatedError &&
        !error.connectionLost &&
        error.replicas === 0 &&
        error.wanted === 1 &&
        /do not send it again/.test(error.message),
    );
    assert.equal(await db.redis.llen(queue.keys.tasks), 1);
  });

  it('never count the replicas of a connection that closed while they were awaited', async () => {
    // ioredis sends an unanswered WAIT again after a reconnect, maybe to another primary,
    // where it covers none of our writes: the answer must not be believed.
    const { redis } = openConnection(db.server.url);
    try {
      const id = Number(await redis.client('ID'));
      const queue = new Queue(redis, uniqueName(), { durable: { replicas: 1, timeout: 3_000 } });
      const enqueued = queue.enqueue(new NodeTask('X:run'));
      await new Promise((resolve) => setTimeout(resolve, 300)); // now in its WAIT
      await db.redis.client('KILL', 'ID', String(id));
      await assert.rejects(
        enqueued,
        (error: unknown) =>
          error instanceof NotReplicatedError &&
          error.connectionLost &&
          /connection to the primary .* closed/.test(error.message),
      );
      assert.equal(await db.redis.llen(queue.keys.tasks), 1, 'written all the same');
    } finally {
      redis.disconnect();
    }
  });

  it('resolve once a replica holds the write', async () => {
    // A replica's first sync waits 5 s by default, for more replicas to share it.
    await db.redis.config('SET', 'repl-diskless-sync-delay', '0');
    const port = await freePort();
    // The replica writes the primary's snapshot to its --dir while it syncs: not our cwd.
    const dir = mkdtempSync(join(tmpdir(), 'replica-'));
    const replica = spawnRedis(
      port,
      [],
      [...['--replicaof', '127.0.0.1', String(db.server.port), '--dir', dir]],
    );
    const client = await connectWhenUp(`redis://127.0.0.1:${port}`, replica);
    try {
      while ((await client.info('replication')).includes('master_link_status:down')) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { redis } = openConnection(db.server.url);
      try {
        const queue = new Queue(redis, uniqueName(), { durable: true });
        await queue.enqueue(new NodeTask('X:run'));
        await queue.schedule(new NodeTask('X:run'), { delay: 60_000 });
        assert.equal(await client.llen(queue.keys.tasks), 1, 'on the replica already');
        assert.equal(await client.zcard(queue.keys.scheduled), 1);
      } finally {
        redis.disconnect();
      }
    } finally {
      client.disconnect();
      await stopProcess(replica);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
