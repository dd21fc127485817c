import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeTask,
  encodeTask,
  GoTask,
  NodeTask,
  PyTask,
  TaskDecodeError,
} from '../../lib/core/index.js';
import { encodeRetry } from '../../lib/core/protocol/codec.js';
import { decodeMsgpack, encodeMsgpack } from '../../lib/core/protocol/msgpack.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
// "m:f" as a MessagePack fixstr
const MF = 'a36d3a66';

describe('PyTask bytes (the layout Python delayed writes)', () => {
  it('drops a zero retry, then empty kwargs, then empty args', () => {
    assert.equal(hex(encodeTask(new PyTask('m:f'))), `91${MF}`);
    assert.equal(hex(encodeTask(new PyTask('m:f', [1, 2]))), `92${MF}920102`);
    assert.equal(hex(encodeTask(new PyTask('m:f', [], { a: 1 }))), `93${MF}9081a16101`);
  });

  it('keeps empty containers that come before a kept element', () => {
    assert.equal(hex(encodeTask(new PyTask('m:f', [], {}, 3))), `94${MF}908003`);
    assert.equal(hex(encodeTask(new PyTask('m:f', [1], { b: 2 }, 1))), `94${MF}910181a1620201`);
  });

  it('writes -1 (retry for ever) as a negative fixint', () => {
    assert.equal(hex(encodeTask(new PyTask('m:f', [], {}, -1))), `94${MF}9080ff`);
  });

  it('NodeTask has the same layout, named after the handler', () => {
    const task = new NodeTask('Mailer:send', ['a@b.c']);
    assert.equal(task.name, 'Mailer:send');
    assert.deepEqual(encodeTask(task), encodeTask(new PyTask('Mailer:send', ['a@b.c'])));
  });

  it('rejects bad arguments with a readable message', () => {
    assert.throws(() => new PyTask(''), /non-empty/);
    assert.throws(() => new PyTask('m:f', 'x' as never), /args must be an array/);
    assert.throws(() => new PyTask('m:f', [], [] as never), /kwargs must be a plain object/);
    assert.throws(() => new PyTask('m:f', [], {}, -2), /retry must be an integer >= -1/);
    assert.throws(() => new PyTask('m:f', [], {}, 1.5), /retry must be an integer/);
  });
});

describe('GoTask bytes', () => {
  it('carries one argument as itself in a binary payload', () => {
    assert.equal(hex(encodeTask(new GoTask('main.f', [1]))), '92a66d61696e2e66c40101');
  });

  it('carries no arguments as a nil payload, as go-delayed writes it', () => {
    assert.equal(hex(encodeTask(new GoTask('main.f'))), '92a66d61696e2e66c401c0');
  });

  it('carries several arguments as an array, structs as arrays of fields', () => {
    assert.equal(
      hex(encodeTask(new GoTask('main.f', [1, 'a']))),
      '92a66d61696e2e66c404' + '9201a161',
    );
    assert.equal(
      hex(encodeTask(new GoTask('main.f', [[1, 'test']]))),
      '92a66d61696e2e66c407' + '9201a474657374',
    );
  });
});

describe('MessagePack values', () => {
  it('writes integers in the smallest format, like Python', () => {
    assert.equal(hex(encodeMsgpack(127)), '7f');
    assert.equal(hex(encodeMsgpack(-33)), 'd0df');
    assert.equal(hex(encodeMsgpack(2 ** 32)), 'cf0000000100000000');
    assert.equal(hex(encodeMsgpack(-(2 ** 40))), 'd3ffffff0000000000');
  });

  it('writes bigint in the same formats a Python int of that value takes', () => {
    assert.equal(hex(encodeMsgpack(5n)), '05');
    assert.equal(hex(encodeMsgpack(2n ** 64n - 1n)), 'cfffffffffffffffff');
    assert.equal(hex(encodeMsgpack(-(2n ** 63n))), 'd38000000000000000');
    // Numbers beside a bigint keep their integer formats.
    assert.equal(
      hex(encodeMsgpack([2n ** 63n, 2 ** 40, 1.5])),
      '93cf8000000000000000cf0000010000000000cb3ff8000000000000',
    );
  });

  it('keeps str and bin apart', () => {
    assert.equal(hex(encodeMsgpack('é')), 'a2c3a9');
    assert.equal(hex(encodeMsgpack(Buffer.from([1, 2]))), 'c4020102');
    const [text, bytes] = decodeMsgpack(Buffer.from('92a161c40161', 'hex')) as [unknown, unknown];
    assert.equal(text, 'a');
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...(bytes as Uint8Array)], [0x61]);
  });

  it('reads 64-bit integers as numbers when safe, bigint when not', () => {
    assert.equal(decodeMsgpack(Buffer.from('cf0000010000000000', 'hex')), 2 ** 40);
    assert.equal(decodeMsgpack(Buffer.from('cfffffffffffffffff', 'hex')), 2n ** 64n - 1n);
    assert.equal(decodeMsgpack(Buffer.from('d38000000000000000', 'hex')), -(2n ** 63n));
    assert.deepEqual(decodeMsgpack(Buffer.from('91cf0000010000000000', 'hex')), [2 ** 40]);
  });
});

describe('decodeTask', () => {
  it('reads every trimmed PyTask shape', () => {
    for (const task of [
      new PyTask('m:f'),
      new PyTask('m:f', [1]),
      new PyTask('m:f', [1], { k: 'v' }),
      new PyTask('m:f', [], {}, 2),
    ]) {
      const decoded = decodeTask(encodeTask(task));
      assert.equal(decoded.kind, 'py');
      assert.deepEqual(decoded, {
        kind: 'py',
        funcPath: 'm:f',
        args: [...task.args],
        kwargs: { ...task.kwargs },
        retry: task.retry,
        options: undefined,
      });
    }
  });

  it('reads the nil args and kwargs go-delayed writes as empty', () => {
    // NewPyTask("m:f", nil, nil) from go-delayed: 93 a36d3a66 c0 c0
    const decoded = decodeTask(Buffer.from(`93${MF}c0c0`, 'hex'));
    assert.deepEqual(decoded, {
      kind: 'py',
      funcPath: 'm:f',
      args: [],
      kwargs: {},
      retry: 0,
      options: undefined,
    });
  });

  it('explains a Go struct sent as kwargs', () => {
    assert.throws(
      () => decodeTask(encodeMsgpack(['m:f', [1], [1, 'test']])),
      /a Go struct passed as kwargs travels as an array/,
    );
  });

  it('accepts a fifth element of options', () => {
    const decoded = decodeTask(encodeMsgpack(['m:f', [], {}, 0, { id: 'x' }]));
    assert.deepEqual(decoded.kind === 'py' && decoded.options, { id: 'x' });
  });

  it('recognises Go tasks', () => {
    const decoded = decodeTask(encodeTask(new GoTask('main.f', [1])));
    assert.equal(decoded.kind, 'go');
    assert.equal(decoded.funcPath, 'main.f');
    assert.equal(decodeTask(encodeMsgpack('main.f')).kind, 'go');
  });

  it('explains what is wrong with malformed bytes', () => {
    const bad: [Buffer, RegExp][] = [
      [Buffer.from('not msgpack at all'), /./],
      [Buffer.from('c1', 'hex'), /not valid MessagePack/],
      [encodeMsgpack(42), /array of 1 to 5 elements/],
      [encodeMsgpack([]), /array of 1 to 5 elements/],
      [encodeMsgpack([1, 2, 3, 4, 5, 6]), /array of 1 to 5 elements/],
      [encodeMsgpack([7]), /first element must be a non-empty string/],
      [encodeMsgpack(['m:f', 'x']), /args must be an array/],
      [encodeMsgpack(['m:f', [], [1]]), /kwargs must be a map/],
      [encodeMsgpack(['m:f', [], {}, 'x']), /retry must be an integer/],
      [encodeMsgpack(['m:f', [], {}, 0, 3]), /options must be a map/],
      [Buffer.concat([encodeTask(new PyTask('m:f')), Buffer.from([0])]), /not valid MessagePack/],
    ];
    for (const [bytes, message] of bad) {
      assert.throws(
        () => decodeTask(bytes),
        (error: Error) => {
          assert.ok(error instanceof TaskDecodeError, `${error.name}: ${error.message}`);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe('encodeRetry', () => {
  it('spends one attempt and keeps "for ever" as it is', () => {
    const once = decodeTask(encodeTask(new PyTask('m:f', [1], {}, 2)));
    assert.equal(once.kind, 'py');
    if (once.kind !== 'py') return;
    assert.deepEqual(encodeRetry(once, Buffer.alloc(0)), encodeTask(new PyTask('m:f', [1], {}, 1)));
    const lastBytes = encodeTask(new PyTask('m:f', [1], {}, 1));
    const last = decodeTask(lastBytes);
    if (last.kind !== 'py') return;
    assert.deepEqual(encodeRetry(last, lastBytes), encodeTask(new PyTask('m:f', [1])));
    const foreverBytes = encodeTask(new PyTask('m:f', [], {}, -1));
    const forever = decodeTask(foreverBytes);
    if (forever.kind !== 'py') return;
    assert.deepEqual(encodeRetry(forever, foreverBytes), encodeTask(new PyTask('m:f', [], {}, -1)));
  });

  it('keeps any negative budget (Python writes -2 as readily as -1): the same bytes again', () => {
    const bytes = encodeMsgpack(['m:f', [1], {}, -2]);
    const task = decodeTask(bytes);
    assert.equal(task.kind, 'py');
    if (task.kind !== 'py') return;
    assert.equal(task.retry, -2);
    assert.equal(encodeRetry(task, bytes), bytes);
  });
});

describe('nesting depth (what the peers write and read: 1,024 nested arrays or maps)', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it('writes an argument as deep as Python writes one, and reads it back', () => {
    // The task's array and its args array are two levels: 1,022 more reach Python's limit.
    const bytes = encodeTask(new PyTask('m:f', [nested(1_022)]));
    const task = decodeTask(bytes);
    assert.equal(task.kind, 'py');
    if (task.kind !== 'py') return;
    assert.deepEqual(task.args, [nested(1_022)]);
    assert.deepEqual(decodeMsgpack(encodeMsgpack(nested(1_024))), nested(1_024));
  });

  it('refuses one level more, with the depth in the message', () => {
    assert.throws(() => encodeTask(new PyTask('m:f', [nested(1_023)])), /Too deep/);
    // The bigint-aware path has the same bound.
    assert.throws(() => encodeMsgpack([2n ** 63n, nested(1_024)]), /Too deep/);
    assert.deepEqual(decodeMsgpack(encodeMsgpack([2n ** 63n, nested(1_023)])), [
      2n ** 63n,
      nested(1_023),
    ]);
  });
});
