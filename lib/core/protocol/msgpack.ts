import { Decoder, Encoder } from '@msgpack/msgpack';

/**
 * MessagePack for task bytes, tuned to write what the Python and Go peers write.
 *
 * JavaScript numbers are encoded in the smallest integer format when they are safe integers,
 * else as float64, which is exactly what Python's msgpack does for int and float. 64-bit
 * integers beyond 2^53 travel as bigint: the common path never pays for that, because the
 * plain encoder throws on a bigint and only then the bigint-aware path runs. On the way in,
 * int64/uint64 values decode as numbers when they are safe and as bigint otherwise, so a
 * handler sees `5000000000`, not `5000000000n`, and never a silently rounded value.
 * Strings stay str, Uint8Array/Buffer stay bin: the peers keep the two apart and so do we.
 */
/**
 * The deepest nesting of arrays and maps the peers write and read: Python's msgpack packs
 * and unpacks up to 1,024 nested containers (a task's own array counts as one). The encoder
 * counts the leaf value as a level too, hence the + 1.
 */
export const MAX_NESTING = 1_024;
const plainEncoder = new Encoder({ maxDepth: MAX_NESTING + 1 });
const bigIntEncoder = new Encoder({ useBigInt64: true, maxDepth: MAX_NESTING + 1 });
const decoder = new Decoder({ useBigInt64: true });

const INT64_FORMAT = 0xd3;
const UINT64_FORMAT = 0xcf;
const TWO_POW_32 = 2 ** 32;
const MIN_INT32 = -(2 ** 31);

export function encodeMsgpack(value: unknown): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = plainEncoder.encode(value);
  } catch (error) {
    if (!containsBigInt(value, 0)) throw error;
    bytes = bigIntEncoder.encode(toBigIntEncoderInput(value, 0));
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Like encodeMsgpack, but the bytes are a view of the encoder's own buffer, valid only until
 * the next encode: for callers that copy them at once (a data queue's put), one allocation
 * less per value.
 */
export function encodeMsgpackShared(value: unknown): Uint8Array {
  try {
    return plainEncoder.encodeSharedRef(value);
  } catch (error) {
    if (!containsBigInt(value, 0)) throw error;
    return bigIntEncoder.encodeSharedRef(toBigIntEncoderInput(value, 0));
  }
}

export function decodeMsgpack(bytes: Uint8Array): unknown {
  const value = decoder.decode(bytes);
  // A 64-bit integer can only come from one of these two format bytes; when neither byte
  // occurs anywhere, no bigint can be in the result and the walk is skipped.
  if (bytes.includes(UINT64_FORMAT) || bytes.includes(INT64_FORMAT)) {
    return shrinkSafeBigInts(value);
  }
  return value;
}

function containsBigInt(value: unknown, depth: number): boolean {
  if (typeof value === 'bigint') return true;
  if (depth > MAX_NESTING || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item) => containsBigInt(item, depth + 1));
  if (ArrayBuffer.isView(value)) return false;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (containsBigInt(k, depth + 1) || containsBigInt(v, depth + 1)) return true;
    }
    return false;
  }
  return Object.values(value).some((item) => containsBigInt(item, depth + 1));
}

/**
 * The bigint-aware encoder writes every bigint as a 64-bit integer and every number beyond
 * 32 bits as a float, unlike Python. Rewrite the value so its output matches Python's:
 * big safe integers become bigint (64-bit int formats), small bigints become numbers
 * (smallest format).
 */
function toBigIntEncoderInput(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(MIN_INT32) && value < BigInt(TWO_POW_32) ? Number(value) : value;
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value >= TWO_POW_32 || value < MIN_INT32)
      ? BigInt(value)
      : value;
  }
  if (depth > MAX_NESTING || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => toBigIntEncoderInput(item, depth + 1));
  if (ArrayBuffer.isView(value)) return value;
  if (value instanceof Map) {
    return new Map(
      [...value].map(([k, v]) => [
        toBigIntEncoderInput(k, depth + 1),
        toBigIntEncoderInput(v, depth + 1),
      ]),
    );
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = toBigIntEncoderInput(v, depth + 1);
  return copy;
}

function shrinkSafeBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shrinkSafeBigInts(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = shrinkSafeBigInts(record[key]);
  return value;
}
