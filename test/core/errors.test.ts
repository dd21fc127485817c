import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import * as core from '../../lib/core/index.js';
import {
  ConnectionLostError,
  DelayedError,
  HandlerRegistry,
  NodeTask,
  Queue,
  type TaskFailedEvent,
  UnrecoverableError,
  Worker,
} from '../../lib/core/index.js';
import { ConnectionLoss } from '../../lib/core/redis/connection-loss.js';
import { LuaScript } from '../../lib/core/redis/lua-scripts.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

// CLIENT KILL reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

describe('error classes', () => {
  type ErrorClass = new (message: string) => Error;
  const errorClasses = Object.entries(core as Record<string, unknown>).filter(
    (entry): entry is [string, ErrorClass] =>
      entry[0].endsWith('Error') && typeof entry[1] === 'function',
  );

  it('exports the error classes the engine throws', () => {
    const names = errorClasses.map(([name]) => name);
    for (const expected of [
      'ConnectionLostError',
      'DelayedError',
      'InvalidOptionsError',
      'RedisUnavailableError',
      'UnrecoverableError',
      'WorkerStartError',
    ]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
  });

  it('makes every one a DelayedError named after its class', () => {
    for (const [name, ErrorClass] of errorClasses) {
      // RateLimitedError takes its wait first.
      const error =
        ErrorClass === (core.RateLimitedError as unknown)
          ? new core.RateLimitedError(100, 'boom')
          : new ErrorClass('boom');
      assert.ok(error instanceof DelayedError, `${name} is a DelayedError`);
      assert.ok(error instanceof Error, `${name} is an Error`);
      assert.ok(error instanceof ErrorClass, `${name} is itself`);
      assert.equal(error.name, name);
      assert.equal(error.message, 'boom');
      assert.match(String(error.stack), new RegExp(`^${name}: boom`));
    }
  });

  it('keeps the cause it is given', () => {
    const cause = new Error('underneath');
    const error = new core.WorkerStartError('could not start', { cause });
    assert.equal(error.cause, cause);
  });
});

describe('UnrecoverableError', () => {
  it('buries a task at once, whatever retries it has left', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let attempts = 0;
    const handlers = new HandlerRegistry();
    handlers.register('Bad:input', () => {
      attempts++;
      throw new UnrecoverableError('the input can never work');
    });
    const failures: TaskFailedEvent[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers,
      dequeueTimeout: 200,
      logger: quietLogger,
    });
    worker.on('failed', (event) => failures.push(event));
    await worker.start();
    try {
      await queue.enqueue(new NodeTask('Bad:input', ['x'], {}, 5));
      await eventually(async () => (await queue.deadLetters.count()) === 1, 5_000, 'a dead letter');
      await eventually(() => failures.length === 1, 5_000, 'the failed event');
      // Time for a retry to show up, were there one.
      await sleep(300);
    } finally {
      await worker.close();
    }
    assert.equal(attempts, 1, 'ran exactly once');
    assert.equal(await queue.deadLetters.count(), 1);
    const [letter] = await queue.deadLetters.list();
    assert.equal(letter!.reason, 'failed');
    assert.equal(letter!.funcPath, 'Bad:input');
    assert.match(letter!.error, /the input can never work/);
    assert.match(letter!.error, /unrecoverable/);
    assert.equal(await queue.len(), 0, 'not retried');

    assert.equal(failures.length, 1);
    const [event] = failures;
    assert.equal(event!.outcome, 'buried');
    assert.equal(event!.name, 'Bad:input');
    assert.equal(event!.queue, queue.name);
    assert.match(event!.workerId, /^[0-9a-f]{32}$/);
    assert.ok(event!.error instanceof UnrecoverableError);
  });
});

describe('ConnectionLoss', () => {
  it('rejects a guarded command with a ConnectionLostError when the connection is killed', async () => {
    const redis = new Redis(db.server.url, { autoResendUnfulfilledCommands: false });
    redis.on('error', () => undefined);
    try {
      await redis.ping();
      const loss = new ConnectionLoss(redis);
      // Attached before the kill: the close can come before CLIENT KILL's own reply, and a
      // rejection nobody listens to yet would fail the run.
      const rejected = assert.rejects(
        loss.guard(redis.blpop(uniqueName('somekey'), 5)),
        (error) => {
          assert.ok(error instanceof ConnectionLostError, String(error));
          assert.ok(error instanceof DelayedError);
          assert.equal(error.name, 'ConnectionLostError');
          assert.match(error.message, /connection closed before the reply arrived/);
          return true;
        },
      );
      await eventually(
        async () => /cmd=blpop/.test(String(await db.redis.client('LIST'))),
        5_000,
        'the BLPOP to block',
      );
      const started = Date.now();
      await db.redis.client('KILL', 'TYPE', 'normal');
      await rejected;
      assert.ok(Date.now() - started < 4_000, 'rejected at the kill, not at the BLPOP timeout');
      assert.equal(loss.watching, 0);
    } finally {
      redis.disconnect();
    }
  });
});

describe('LuaScript header', () => {
  it('reads the KEYS lines into queue keys, in order', () => {
    const script = new LuaScript(
      'x',
      [
        '-- What it does.',
        '--',
        '-- KEYS[1]  N       list of serialized tasks',
        '-- KEYS[2]  N_noti  list of notifications',
        "return redis.call('LLEN', KEYS[1])",
      ].join('\n'),
    );
    assert.deepEqual(script.keys, ['tasks', 'notifications']);
    assert.match(script.sha, /^[0-9a-f]{40}$/);
    const all = new LuaScript(
      'y',
      '-- KEYS[1] N_dead\n-- KEYS[2] N_processing\n-- KEYS[3] N\nreturn 1',
    );
    assert.deepEqual(all.keys, ['dead', 'processing', 'tasks']);
  });

  const invalid: [string, string, RegExp][] = [
    ['an out-of-order index', '-- KEYS[2]  N\n-- KEYS[1]  N_noti\nreturn 1', /KEYS\[2\] is N$/],
    ['a repeated index', '-- KEYS[1]  N\n-- KEYS[1]  N_noti\nreturn 1', /KEYS\[1\] is N_noti$/],
    [
      'an unknown key name',
      '-- KEYS[1]  N\n-- KEYS[2]  N_other\nreturn 1',
      /KEYS\[2\] is N_other$/,
    ],
    ['no KEYS lines', '-- no keys here\nreturn 1', /its header lists no KEYS$/],
  ];
  for (const [what, source, detail] of invalid) {
    it(`throws a DelayedError naming the file for ${what}`, () => {
      assert.throws(
        () => new LuaScript('broken', source),
        (error: unknown) => {
          assert.ok(error instanceof DelayedError, String(error));
          assert.match(error.message, /^broken\.lua: /);
          assert.match(error.message, detail);
          return true;
        },
      );
    });
  }
});
