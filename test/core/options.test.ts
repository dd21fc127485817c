import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidOptionsError,
  QUEUE_OPTIONS,
  resolveSettings,
  resolveWorkerSettings,
  SWEEPER_OPTIONS,
  WORKER_OPTIONS,
} from '../../lib/core/index.js';
import { type DelayedModuleOptions, resolveOptions } from '../../lib/delayed.options.js';

/** Resolves worker settings and returns them with the problems found. */
function worker(given: object, prefix = '') {
  const problems: string[] = [];
  const settings = resolveWorkerSettings(given, prefix, problems);
  return { settings, problems };
}

/** The InvalidOptionsError resolveOptions throws for `options`, or a failed assertion. */
function rejection(options: unknown): InvalidOptionsError {
  try {
    resolveOptions(options as DelayedModuleOptions);
  } catch (error) {
    assert.ok(error instanceof InvalidOptionsError, `not an InvalidOptionsError: ${error}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(options)}`);
}

describe('resolveSettings / resolveWorkerSettings', () => {
  it('applies every default when nothing is given', () => {
    const { settings, problems } = worker({});
    assert.deepEqual(problems, []);
    assert.deepEqual(settings, {
      concurrency: 1,
      keepAliveInterval: 15_000,
      keepAliveTimeout: 60_000,
      dequeueTimeout: 1_000,
      shutdownTimeout: 10_000,
      redisTimeout: 5_000,
    });
    const sweeperProblems: string[] = [];
    assert.deepEqual(resolveSettings(SWEEPER_OPTIONS, {}, '', sweeperProblems), {
      interval: 60_000,
    });
    assert.deepEqual(sweeperProblems, []);
  });

  it('keeps given values and reads only the options of its table', () => {
    const problems: string[] = [];
    const settings = resolveSettings(
      QUEUE_OPTIONS,
      { redisTimeout: 300, concurrency: 'junk', other: 1 },
      '',
      problems,
    );
    assert.deepEqual(settings, { redisTimeout: 300 });
    assert.deepEqual(problems, []);
  });

  it('takes a null or undefined value as "not given"', () => {
    const { settings, problems } = worker({ concurrency: undefined, dequeueTimeout: null });
    assert.deepEqual(problems, []);
    assert.equal(settings.concurrency, 1);
    assert.equal(settings.dequeueTimeout, 1_000);
  });

  it('accepts numeric strings, as config libraries hand environment variables over', () => {
    const { settings, problems } = worker({
      concurrency: '10',
      dequeueTimeout: ' 2000 ',
      shutdownTimeout: '2500',
    });
    assert.deepEqual(problems, []);
    assert.equal(settings.concurrency, 10);
    assert.equal(settings.dequeueTimeout, 2_000);
    assert.equal(settings.shutdownTimeout, 2_500);
  });

  it('rejects a string that is not a number, naming it as a string', () => {
    const { problems } = worker({ concurrency: 'ten', dequeueTimeout: 'ten' });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^concurrency must be a positive integer, got the string "ten"$/);
    assert.match(
      problems[1]!,
      /^dequeueTimeout must be a positive number of milliseconds, got the string "ten"$/,
    );
  });

  it('rejects 0 and -1 for counts and durations alike', () => {
    for (const bad of [0, -1]) {
      const { problems } = worker({ concurrency: bad, shutdownTimeout: bad, redisTimeout: bad });
      assert.deepEqual(problems, [
        `concurrency must be a positive integer, got ${bad} (number)`,
        `shutdownTimeout must be a positive number of milliseconds, got ${bad} (number)`,
        `redisTimeout must be a positive number of milliseconds, got ${bad} (number)`,
      ]);
    }
    // A negative number as a string is not a number string: it is reported as given.
    assert.deepEqual(worker({ concurrency: '-1' }).problems, [
      'concurrency must be a positive integer, got the string "-1"',
    ]);
  });

  it('rejects a non-integer concurrency, as a number or a string', () => {
    assert.deepEqual(worker({ concurrency: 1.5 }).problems, [
      'concurrency must be a positive integer, got 1.5 (number)',
    ]);
    assert.deepEqual(worker({ concurrency: '2.5' }).problems, [
      'concurrency must be a positive integer, got the string "2.5"',
    ]);
  });

  it('rejects values of other types and infinite durations', () => {
    const { problems } = worker({
      concurrency: true,
      keepAliveTimeout: Infinity,
      dequeueTimeout: [5],
      shutdownTimeout: { ms: 5 },
    });
    assert.deepEqual(problems, [
      'concurrency must be a positive integer, got true (boolean)',
      'keepAliveTimeout must be a positive number of milliseconds, got Infinity (number)',
      'dequeueTimeout must be a positive number of milliseconds, got an array',
      'shutdownTimeout must be a positive number of milliseconds, got an object',
    ]);
  });

  it('rejects a keepAliveInterval not shorter than keepAliveTimeout, with both values in ms', () => {
    for (const interval of [20_000, 30_000]) {
      const { problems } = worker({ keepAliveInterval: interval, keepAliveTimeout: 20_000 });
      assert.equal(problems.length, 1);
      assert.equal(
        problems[0],
        `keepAliveInterval (${interval} ms) must be shorter than keepAliveTimeout (20000 ms), or liveness keys expire between refreshes`,
      );
    }
    // Against the default timeout too, and numeric strings compare as numbers.
    assert.match(
      worker({ keepAliveInterval: 60_000 }).problems.join('\n'),
      /keepAliveInterval \(60000 ms\) must be shorter than keepAliveTimeout \(60000 ms\)/,
    );
    assert.deepEqual(worker({ keepAliveInterval: '9000', keepAliveTimeout: '10000' }).problems, []);
  });

  it('puts the prefix before every option it names', () => {
    const { problems } = worker(
      { concurrency: 0, dequeueTimeout: 'ten', keepAliveInterval: 5_000, keepAliveTimeout: 5_000 },
      'worker.',
    );
    assert.deepEqual(problems, [
      'worker.concurrency must be a positive integer, got 0 (number)',
      'worker.dequeueTimeout must be a positive number of milliseconds, got the string "ten"',
      'worker.keepAliveInterval (5000 ms) must be shorter than worker.keepAliveTimeout (5000 ms), or liveness keys expire between refreshes',
    ]);
  });

  it('adds to the problems already found rather than replacing them', () => {
    const problems = ['earlier'];
    resolveWorkerSettings({ concurrency: 0 }, '', problems);
    assert.equal(problems.length, 2);
    assert.equal(problems[0], 'earlier');
  });

  it('declares every worker option with a default that passes its own check', () => {
    const defaults = Object.fromEntries(
      Object.entries(WORKER_OPTIONS).map(([name, spec]) => [name, spec.default]),
    );
    assert.deepEqual(worker(defaults).problems, []);
  });
});

describe('resolveOptions (DelayedModule)', () => {
  it('leaves the worker and the sweeper off by default, other defaults applied', () => {
    const resolved = resolveOptions({});
    assert.equal(resolved.worker, false);
    assert.equal(resolved.sweeper, false);
    assert.equal(resolved.queue, 'default');
    assert.deepEqual(resolved.queues, []);
    assert.equal(resolved.redisTimeout, 5_000);
    assert.equal(resolved.connection, undefined);
    assert.deepEqual(resolved.deadLetter, { maxLength: 10_000 });
  });

  it('gives the worker its defaults for `worker: true`, without redisTimeout', () => {
    const resolved = resolveOptions({ worker: true });
    assert.deepEqual(resolved.worker, {
      concurrency: 1,
      keepAliveInterval: 15_000,
      keepAliveTimeout: 60_000,
      dequeueTimeout: 1_000,
      shutdownTimeout: 10_000,
      queues: undefined,
    });
    assert.deepEqual(resolveOptions({ worker: false }).worker, false);
  });

  it('resolves worker options, numeric strings included', () => {
    const resolved = resolveOptions({
      worker: { concurrency: '4' as unknown as number, queues: ['a', 'b'] },
    });
    assert.ok(resolved.worker);
    assert.equal(resolved.worker.concurrency, 4);
    assert.deepEqual(resolved.worker.queues, ['a', 'b']);
  });

  it('runs the sweeper where the worker runs, unless told otherwise', () => {
    assert.deepEqual(resolveOptions({ worker: true }).sweeper, { interval: 60_000 });
    assert.equal(resolveOptions({ worker: true, sweeper: false }).sweeper, false);
    assert.deepEqual(resolveOptions({ sweeper: true }).sweeper, { interval: 60_000 });
    assert.deepEqual(resolveOptions({ sweeper: { interval: 500 } }).sweeper, { interval: 500 });
    assert.deepEqual(resolveOptions({ worker: true, sweeper: { interval: 500 } }).sweeper, {
      interval: 500,
    });
    assert.deepEqual(resolveOptions({ sweeper: {} }).sweeper, { interval: 60_000 });
  });

  it('applies redisTimeout, 5000 by default, and passes it on as given', () => {
    assert.equal(resolveOptions({}).redisTimeout, 5_000);
    assert.equal(resolveOptions({ redisTimeout: 750, worker: true }).redisTimeout, 750);
    assert.equal(resolveOptions({ redisTimeout: '750' as unknown as number }).redisTimeout, 750);
    assert.match(
      rejection({ redisTimeout: 0 }).message,
      /redisTimeout must be a positive number of milliseconds, got 0 \(number\)/,
    );
  });

  it('passes the connection and the queue names through', () => {
    const resolved = resolveOptions({ connection: 'redis://h:1/2', queue: 'mail' }, ['x', 'y']);
    assert.equal(resolved.connection, 'redis://h:1/2');
    assert.equal(resolved.queue, 'mail');
    assert.deepEqual(resolved.queues, ['x', 'y']);
  });

  for (const key of ['queues', 'isGlobal']) {
    it(`says that ${key} goes beside the options, not that it is unknown`, () => {
      const { message } = rejection({ [key]: key === 'queues' ? ['a'] : true });
      assert.match(message, new RegExp(`${key} goes beside the options, not inside them`));
      assert.doesNotMatch(message, /unknown option/);
    });
  }

  it('lists an unknown option with the known ones, at any level', () => {
    const top = rejection({ concurrency: 4 }).message;
    assert.match(
      top,
      /unknown option concurrency \(known: connection, queue, worker, sweeper, deadLetter, durable, scheduler, rateLimits, events, redisTimeout\)/,
    );
    const nested = rejection({ worker: { concurency: 4 } }).message;
    assert.match(
      nested,
      /unknown option worker\.concurency \(known: concurrency, keepAliveInterval, keepAliveTimeout, dequeueTimeout, shutdownTimeout, queues\)/,
    );
    assert.match(
      rejection({ sweeper: { every: 5 } }).message,
      /unknown option sweeper\.every \(known: interval\)/,
    );
    assert.match(
      rejection({ deadLetter: { max: 5 } }).message,
      /unknown option deadLetter\.max \(known: maxLength\)/,
    );
  });

  for (const [url, why] of [
    ['http://x', /got the http: URL "http:\/\/x"/],
    ['redis://h/abc', /the path must be a database number, got "abc"/],
    ['localhost:6379', /got the localhost: URL "localhost:6379"/],
    ['not a url', /must be a redis:\/\/ or rediss:\/\/ URL or a socket path, got "not a url"/],
  ] as const) {
    it(`rejects the connection ${JSON.stringify(url)}`, () => {
      assert.match(rejection({ connection: url }).message, why);
    });
  }

  for (const url of ['redis://h:1/2', 'rediss://h', '/tmp/redis.sock', 'redis://h', 'redis://h/']) {
    it(`accepts the connection ${JSON.stringify(url)}`, () => {
      assert.equal(resolveOptions({ connection: url }).connection, url);
    });
  }

  it('checks ioredis options for a database number', () => {
    assert.deepEqual(resolveOptions({ connection: { port: 1, db: 3 } }).connection, {
      port: 1,
      db: 3,
    });
    assert.match(
      rejection({ connection: { db: -1 } }).message,
      /connection\.db must be a database number, got -1/,
    );
  });

  it('rejects options that are not an object', () => {
    for (const bad of [null, 'redis://h', 5]) {
      assert.match(rejection(bad).message, /^DelayedModule options must be an object, got /);
    }
  });

  it('reports several problems at once, in one InvalidOptionsError', () => {
    const error = rejection({
      connection: 'http://x',
      queue: '',
      queues: ['a'],
      bogus: 1,
      worker: { concurrency: 'ten', keepAliveInterval: 5_000, keepAliveTimeout: 5_000 },
      sweeper: { interval: -1 },
      deadLetter: { maxLength: 0 },
    });
    assert.equal(error.name, 'InvalidOptionsError');
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'Invalid DelayedModule options:');
    const problems = lines.slice(1);
    assert.ok(
      problems.every((line) => line.startsWith('- ')),
      error.message,
    );
    const expected = [
      /^- queues goes beside the options/,
      /^- unknown option bogus /,
      /^- connection must be a redis:\/\/ or rediss:\/\/ URL/,
      /^- queue must be a non-empty string, got the string ""$/,
      /^- worker\.concurrency must be a positive integer, got the string "ten"$/,
      /^- worker\.keepAliveInterval \(5000 ms\) must be shorter than worker\.keepAliveTimeout \(5000 ms\)/,
      /^- sweeper\.interval must be a positive number of milliseconds, got -1 \(number\)$/,
      /^- deadLetter\.maxLength must be a positive integer, got 0 \(number\)$/,
    ];
    assert.equal(problems.length, expected.length, error.message);
    expected.forEach((pattern, i) => assert.match(problems[i]!, pattern));
  });

  it('rejects an empty worker.queues and bad queue names given beside the options', () => {
    assert.match(
      rejection({ worker: { queues: [] } }).message,
      /worker\.queues must be a non-empty array of queue names/,
    );
    assert.throws(
      () => resolveOptions({}, ['ok', '']),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /queues must hold non-empty strings, got the string ""/.test(error.message),
    );
  });

  it('reports a bad redisTimeout once, not again as worker.redisTimeout', () => {
    const { message } = rejection({ redisTimeout: 'ten', worker: true });
    assert.match(message, /redisTimeout must be a positive number of milliseconds/);
    assert.doesNotMatch(message, /worker\.redisTimeout/);
  });
});

describe('durations a timer or Redis cannot take', () => {
  it('rejects fractions and values beyond a Node timer', () => {
    for (const value of [1500.5, '1500.5', 2 ** 31, 1e10]) {
      const problems: string[] = [];
      resolveSettings(SWEEPER_OPTIONS, { interval: value }, '', problems);
      assert.equal(problems.length, 1, `interval ${String(value)} is rejected`);
      assert.match(
        problems[0]!,
        /^interval must be (a whole number of milliseconds|at most 2147483647 ms)/,
      );
    }
    const problems: string[] = [];
    assert.equal(
      resolveSettings(SWEEPER_OPTIONS, { interval: 2 ** 31 - 1 }, '', problems).interval,
      2 ** 31 - 1,
    );
    assert.deepEqual(problems, []);
  });

  it('rejects worker queue names that are not non-empty strings', () => {
    assert.throws(
      () => resolveOptions({ worker: { queues: [5, ''] as never } }),
      (error: Error) =>
        /worker\.queues must hold non-empty strings, got 5 \(number\)/.test(error.message) &&
        /worker\.queues must hold non-empty strings, got the string ""/.test(error.message),
    );
  });
});
