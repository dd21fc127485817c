import { randomBytes } from 'node:crypto';
import { decodeMsgpack } from '../protocol/msgpack.js';

/**
 * A data item's record in `N_dq_items`: an 8-byte header, then the item's MessagePack bytes.
 * The header is itself the start of a MessagePack array of four, so a whole record is one
 * MessagePack value any language reads: [attempts allowed, dead-letter flag, times its lease
 * ran out, item]. The two counts are always written as uint16 (0xcd + 2 bytes), so the
 * scripts read and bump them at fixed offsets without decoding the item.
 */
export const RECORD_HEADER_SIZE = 8;

/** The most attempts an item can be given (the header's uint16). */
export const MAX_ATTEMPTS = 0xffff;

/** The record of a new item: its header (no lease ended yet), then its bytes. */
export function newRecord(item: Uint8Array, attempts: number, deadLetter: boolean): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_SIZE + item.byteLength);
  record[0] = 0x94;
  record[1] = 0xcd;
  record.writeUInt16BE(attempts, 2);
  record[4] = deadLetter ? 0xc3 : 0xc2;
  record[5] = 0xcd;
  record.writeUInt16BE(0, 6);
  record.set(item, RECORD_HEADER_SIZE);
  return record;
}

/** The item a record carries. */
export function recordItem(record: Buffer): unknown {
  if (record.length <= RECORD_HEADER_SIZE || record[0] !== 0x94 || record[1] !== 0xcd) {
    throw new TypeError('Not a data queue record');
  }
  return decodeMsgpack(record.subarray(RECORD_HEADER_SIZE));
}

/** Random bytes drawn 4 KiB at a time: one draw per item would cost more than the item. */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** A new item id: 12 random bytes as 16 base64url characters. */
export function newItemId(): string {
  if (poolOffset + 12 > pool.length) {
    pool = randomBytes(4_092);
    poolOffset = 0;
  }
  poolOffset += 12;
  return pool.toString('base64url', poolOffset - 12, poolOffset);
}
