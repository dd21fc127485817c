import { TaskDecodeError } from '../errors.js';
import { decodeMsgpack, encodeMsgpack } from './msgpack.js';
import {
  type DecodedPyTask,
  type DecodedTask,
  GoTask,
  type NodeTask,
  PyTask,
  type Task,
} from './task.js';

/**
 * Task <-> bytes, byte for byte as the peers write them (see docs/protocol.md).
 *
 * A PyTask drops its trailing empty elements the way Python `delayed` does: a zero retry,
 * then empty kwargs, then empty args; `["m:f"]` is a whole task. A GoTask is
 * `[func_path, payload]` where the payload is the MessagePack of the arguments (one argument
 * as itself, several as an array, none as nil), carried as a binary string.
 */
export function encodeTask(task: Task): Buffer {
  if (task instanceof PyTask) return encodeMsgpack(pyTaskArray(task));
  if (task instanceof GoTask) return encodeMsgpack(goTaskArray(task));
  throw new TypeError('Only PyTask, NodeTask and GoTask instances can be enqueued');
}

/**
 * A Node task with an options map as its fifth element (what only Node workers read): all
 * four elements written, none trimmed, then the map. Python and Go workers cannot read it,
 * so only NodeTasks, which only Node workers run, are ever written this way.
 */
export function encodeNodeTaskWithOptions(
  task: NodeTask,
  options: Readonly<Record<string, unknown>>,
): Buffer {
  return encodeMsgpack([task.funcPath, task.args, task.kwargs, task.retry, options]);
}

function pyTaskArray(task: PyTask): unknown[] {
  const layout: unknown[] = [task.funcPath, task.args, task.kwargs, task.retry];
  let length = 4;
  if (task.retry === 0) {
    length = 3;
    if (isEmptyObject(task.kwargs)) {
      length = 2;
      if (task.args.length === 0) length = 1;
    }
  }
  layout.length = length;
  return layout;
}

function goTaskArray(task: GoTask): unknown[] {
  // No arguments: a nil payload, as go-delayed's NewGoTask writes it (Python's GoTask writes a
  // bare string there, which the Go worker cannot read).
  const payload = task.args.length === 0 ? null : task.args.length === 1 ? task.args[0] : task.args;
  return [task.funcPath, encodeMsgpack(payload)];
}

/**
 * The bytes of the next attempt of a failed task: the same task with its retry budget spent
 * by one. Any negative budget means "for ever", as in Python `delayed` (which writes -2 as
 * readily as -1): the next attempt is then the very same bytes, unless `countForever` asks
 * to count the retries of a for-ever task in its (still negative) budget, -1, -2, -3, …, down
 * to MIN_FOREVER_RETRY, which a backoff reads as the number of retries used.
 */
/** Where a for-ever task stops counting its retries (its budget then stays put). */
export const MIN_FOREVER_RETRY = -1_000_000;

export function encodeRetry(task: DecodedPyTask, bytes: Buffer, countForever = false): Buffer {
  if (task.retry < 0 && (!countForever || task.retry <= MIN_FOREVER_RETRY)) return bytes;
  const retry = task.retry - 1;
  if (task.options !== undefined) {
    return encodeMsgpack([task.funcPath, task.args, task.kwargs, retry, task.options]);
  }
  // A counted for-ever budget (below -1) is no PyTask a caller may write, so it is laid out
  // here; a zero is dropped as the peers drop it.
  if (retry < 0) return encodeMsgpack([task.funcPath, task.args, task.kwargs, retry]);
  return encodeTask(new PyTask(task.funcPath, task.args, task.kwargs, retry));
}

export function decodeTask(bytes: Uint8Array): DecodedTask {
  let value: unknown;
  try {
    value = decodeMsgpack(bytes);
  } catch (error) {
    throw new TaskDecodeError(`Task bytes are not valid MessagePack: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof value === 'string' && value.length > 0) {
    // A Go task without arguments is written as the bare function path.
    return { kind: 'go', funcPath: value, payload: new Uint8Array(0) };
  }
  if (!Array.isArray(value) || value.length < 1 || value.length > 5) {
    throw new TaskDecodeError(
      `A task must be an array of 1 to 5 elements [func_path, args, kwargs, retry, options], got ${describe(value)}`,
    );
  }
  // go-delayed's NewPyTask(path, nil, nil) writes nil args and kwargs: read them as empty.
  const [funcPath, rawArgs, rawKwargs, retry = 0, options] = value as unknown[];
  const args = rawArgs ?? [];
  const kwargs = rawKwargs ?? {};
  if (typeof funcPath !== 'string' || funcPath.length === 0) {
    throw new TaskDecodeError(
      `A task's first element must be a non-empty string, got ${describe(funcPath)}`,
    );
  }
  if (args instanceof Uint8Array) {
    if (value.length !== 2) {
      throw new TaskDecodeError(
        `Go task "${funcPath}" must have exactly 2 elements, got ${value.length}`,
      );
    }
    return { kind: 'go', funcPath, payload: args };
  }
  if (!Array.isArray(args)) {
    throw new TaskDecodeError(`Task "${funcPath}": args must be an array, got ${describe(args)}`);
  }
  if (!isPlainMap(kwargs)) {
    throw new TaskDecodeError(
      `Task "${funcPath}": kwargs must be a map, got ${describe(kwargs)}${Array.isArray(kwargs) ? ' (a Go struct passed as kwargs travels as an array; pass a map)' : ''}`,
    );
  }
  if (typeof retry !== 'number' || !Number.isInteger(retry)) {
    throw new TaskDecodeError(
      `Task "${funcPath}": retry must be an integer, got ${describe(retry)}`,
    );
  }
  if (options !== undefined && !isPlainMap(options)) {
    throw new TaskDecodeError(
      `Task "${funcPath}": options must be a map, got ${describe(options)}`,
    );
  }
  return { kind: 'py', funcPath, args, kwargs, retry, options };
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  );
}

function isEmptyObject(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} binary bytes`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  return typeof value === 'object' ? 'a map' : `${typeof value} ${String(value)}`;
}
