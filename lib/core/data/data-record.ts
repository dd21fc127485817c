import { randomBytes } from 'node:crypto';
import { encodeMsgpackShared } from '../protocol/msgpack.js';

/**
 * A data item's record in `N_dq_items`: an 8-byte header, then the item's MessagePack bytes.
 * The header is itself the start of a MessagePack array of four, so a whole record is one
 * MessagePack value any language reads: [attempts allowed, dead-letter flag, times its lease
 * ran out, item]. The two counts are always written as uint16 (0xcd + 2 bytes), so the
 * scripts read and bump them at fixed offsets without decoding the item.
 */
export const RECORD_HEADER_SIZE = 8;

/** The largest buffer the shared record writer keeps between puts. */
const MAX_KEPT_BUFFER = 8 * 1024 * 1024;

/** The most attempts an item can be given (the header's uint16). */
export const MAX_ATTEMPTS = 0xffff;

/** The record of a new item: its header (no lease ended yet), then its bytes. */
export function newRecord(item: Uint8Array, attempts: number, deadLetter: boolean): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_SIZE + item.byteLength);
  writeHeader(record, 0, attempts, deadLetter);
  record.set(item, RECORD_HEADER_SIZE);
  return record;
}

function writeHeader(into: Buffer, at: number, attempts: number, deadLetter: boolean): void {
  into[at] = 0x94;
  into[at + 1] = 0xcd;
  into.writeUInt16BE(attempts, at + 2);
  into[at + 4] = deadLetter ? 0xc3 : 0xc2;
  into[at + 5] = 0xcd;
  into[at + 6] = 0;
  into[at + 7] = 0;
}

/**
 * The records of one put call, written end to end into one reused buffer, each after its
 * length (uint32): the put script's second argument. One copy per call, not per item.
 */
export class RecordWriter {
  /**
   * One writer for every put of the process: a put writes and takes its records without
   * awaiting anything in between, so puts never share it at once, and its buffer, grown
   * once, serves them all (a new 64 KiB buffer per put would cost a small put dearly).
   */
  static readonly shared = new RecordWriter();

  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  /** Bytes written so far. */
  get size(): number {
    return this.length;
  }

  /** Encodes an item and writes its record; throws what the encoder throws, writing nothing. */
  add(item: unknown, attempts: number, deadLetter: boolean): void {
    const bytes = encodeMsgpackShared(item);
    const size = RECORD_HEADER_SIZE + bytes.byteLength;
    this.reserve(4 + size);
    const at = this.length;
    this.buffer.writeUInt32BE(size, at);
    writeHeader(this.buffer, at + 4, attempts, deadLetter);
    this.buffer.set(bytes, at + 4 + RECORD_HEADER_SIZE);
    this.length = at + 4 + size;
  }

  /** The records written since the last take, as a buffer of their own; starts afresh. */
  take(): Buffer {
    const records = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    // A huge put does not keep its buffer for the life of the process.
    if (this.buffer.length > MAX_KEPT_BUFFER) this.buffer = Buffer.allocUnsafe(64 * 1024);
    return records;
  }

  /** Drops what was written since the last take. */
  reset(): void {
    this.length = 0;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** The length of an item id: 12 random bytes in base64url. */
export const ITEM_ID_LENGTH = 16;

/** Random bytes drawn 4 KiB at a time: one draw per item would cost more than the item. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** One new item id (see newItemIds). */
export function newItemId(): string {
  return newItemIds(1);
}

/**
 * `count` new item ids, end to end: 12 random bytes each, as 16 base64url characters (12
 * bytes make exactly 16 characters, so the ids of consecutive bytes are consecutive).
 */
export function newItemIds(count: number): string {
  const bytes = count * 12;
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(Math.max(4_092, bytes));
    poolOffset = 0;
  }
  poolOffset += bytes;
  return pool.toString('base64url', poolOffset - bytes, poolOffset);
}
