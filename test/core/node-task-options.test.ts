import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeTask,
  type DecodedPyTask,
  encodeTask,
  GoTask,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  type NodeTaskOptions,
  PyTask,
  Queue,
  type TaskRun,
  Worker,
} from '../../lib/core/index.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

/** The tasks waiting in a queue, decoded. */
async function waiting(queue: Queue): Promise<DecodedPyTask[]> {
  const bytes = await db.redis.lrangeBuffer(queue.name, 0, -1);
  return bytes.map((task) => decodeTask(task) as DecodedPyTask);
}

describe('QueueOptions.nodeTaskOptions', () => {
  it('adds its entries to every NodeTask the queue writes, and to no other task', async () => {
    const seen: [string, string][] = [];
    let turn = 0;
    const hook: NodeTaskOptions = (task, queue) => {
      seen.push([task.name, queue]);
      return { turn: ++turn };
    };
    const queue = new Queue(db.redis, uniqueName(), { nodeTaskOptions: hook });
    const raw = encodeTask(new NodeTask('T:raw'));
    await Promise.all([
      queue.enqueue(new NodeTask('T:a', [1])),
      queue.enqueue(new NodeTask('T:b')),
      queue.enqueue(new PyTask('py.mod:f', [1])),
      queue.enqueue(new GoTask('main.F', [1])),
      queue.enqueue(raw),
    ]);
    await queue.enqueueMany([new NodeTask('T:c'), new PyTask('py.mod:g')]);
    const tasks = await waiting(queue);
    // Each NodeTask gets its own call, made when it is enqueued (same-turn enqueues still
    // travel together), with all four elements before the map.
    assert.deepEqual(
      tasks.map((task) => [task.funcPath, task.args, task.retry, task.options]),
      [
        ['T:a', [1], 0, { turn: 1 }],
        ['T:b', [], 0, { turn: 2 }],
        ['py.mod:f', [1], 0, undefined],
        ['main.F', undefined, undefined, undefined],
        ['T:raw', [], 0, undefined],
        ['T:c', [], 0, { turn: 3 }],
        ['py.mod:g', [], 0, undefined],
      ],
    );
    assert.deepEqual(seen, [
      ['T:a', queue.name],
      ['T:b', queue.name],
      ['T:c', queue.name],
    ]);
    // Peer tasks and given bytes are written exactly as without the hook.
    const bytes = await db.redis.lrangeBuffer(queue.name, 0, -1);
    assert.deepEqual(bytes[2], encodeTask(new PyTask('py.mod:f', [1])));
    assert.deepEqual(bytes[3], encodeTask(new GoTask('main.F', [1])));
    assert.deepEqual(bytes[4], raw);
  });

  it('writes the peers layout when the hook adds nothing', async () => {
    const queue = new Queue(db.redis, uniqueName(), { nodeTaskOptions: () => undefined });
    const task = new NodeTask('T:a', [1], {}, 2);
    await queue.enqueue(task);
    assert.deepEqual(await db.redis.lrangeBuffer(queue.name, 0, -1), [encodeTask(task)]);
  });

  it('adds its entries to scheduled tasks and beside a tracked task envelope', async () => {
    const queue = new Queue(db.redis, uniqueName(), {
      nodeTaskOptions: (task) => (task.name === 'T:skip' ? undefined : { note: task.name }),
    });
    await queue.schedule(new NodeTask('T:later'), { delay: 60_000 });
    const [member] = await db.redis.zrangeBuffer(`${queue.name}_scheduled`, 0, -1);
    assert.deepEqual((decodeTask(member!.subarray(16)) as DecodedPyTask).options, {
      note: 'T:later',
    });
    const handle = await queue.call(new NodeTask('T:tracked', [2]));
    const plain = await queue.call(new NodeTask('T:skip'));
    const [tracked, skipped] = await waiting(queue);
    assert.deepEqual(tracked!.options, { note: 'T:tracked', id: handle.id });
    assert.deepEqual(skipped!.options, { id: plain.id });
  });

  it('rejects a hook that returns what is not a map, or a key of the tracking envelope', async () => {
    assert.throws(
      () => new Queue(db.redis, 'q', { nodeTaskOptions: 'trace' as unknown as NodeTaskOptions }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /nodeTaskOptions must be a function/.test(error.message),
    );
    const returning = (value: unknown) =>
      new Queue(db.redis, uniqueName(), {
        nodeTaskOptions: () => value as Record<string, unknown>,
      });
    await assert.rejects(
      returning({ id: 'x' }).enqueue(new NodeTask('T:a')),
      /returned the key "id", which belongs to tracked tasks/,
    );
    await assert.rejects(returning([1]).enqueue(new NodeTask('T:a')), /got an array/);
    await assert.rejects(returning('x').enqueueMany([new NodeTask('T:a')]), /got string/);
    await assert.rejects(returning({ stack: true }).call(new NodeTask('T:a')), /key "stack"/);
  });

  it('reaches the handler hook as TaskRun.options, and retries keep it', async () => {
    const queue = new Queue(db.redis, uniqueName(), { nodeTaskOptions: () => ({ note: 'n' }) });
    const handlers = new HandlerRegistry();
    let calls = 0;
    handlers.register('T:flaky', () => {
      if (++calls === 1) throw new Error('first attempt fails');
    });
    const runs: TaskRun[] = [];
    const worker = new Worker({
      queues: [new Queue(db.redis, queue.name)],
      handlers,
      logger: quietLogger,
      dequeueTimeout: 100,
      instrument: (run, call) => {
        runs.push(run);
        return call();
      },
    });
    await worker.start();
    try {
      await queue.enqueue(new NodeTask('T:flaky', [], {}, 1));
      await eventually(() => runs.length === 2 && calls === 2);
    } finally {
      await worker.close();
    }
    assert.deepEqual(
      runs.map((run) => run.options),
      [{ note: 'n' }, { note: 'n' }],
    );
  });
});
