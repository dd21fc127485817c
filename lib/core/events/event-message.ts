import type { QueueEventName } from './queue-event.js';

/** Encoded strings kept for reuse: event names, task names and slot ids repeat all the time. */
const STRING_CACHE_LIMIT = 10_000;
/** Longer strings (a task name off the wire may be anything) are written, not kept. */
const CACHED_STRING_LENGTH = 128;
/** A buffer a burst of long events grew past this is let go after its message is taken. */
const KEPT_BUFFER_SIZE = 1_048_576;
const INITIAL_BUFFER_SIZE = 16_384;

/**
 * The `N_events` messages of one queue, written one after the other: the MessagePack array
 * [queue, event, event, …], each event the tuple [event, name, id, workerId, at, duration,
 * error, outcome, retryIn]. Written straight into a buffer kept for the queue as events
 * come, because an event is made for every task and a generic encoder (objects in, bytes
 * out) cost more than the task itself; the array's length is filled in when a message is
 * taken, and the buffer is written again from its start.
 */
export class EventMessage {
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER_SIZE);
  /** Where the next byte goes; the first 5 bytes hold the array32 header. */
  private offset = 0;
  /** Events in the message being written. */
  count = 0;
  /** Where the events start: after the header and the queue's name. */
  private readonly start: number;

  constructor(
    queue: string,
    private readonly strings: Map<string, Buffer>,
  ) {
    this.offset = 5;
    this.string(queue);
    this.start = this.offset;
  }

  add(
    event: QueueEventName,
    name: string | null,
    id: string | null | undefined,
    workerId: string,
    at: number,
    duration: number | null | undefined,
    error: string | null,
    outcome: 'dead-lettered' | 'dropped' | null,
    retryIn: number | null | undefined,
  ): void {
    this.room(64);
    this.buffer[this.offset++] = 0x99; // fixarray of 9
    this.cached(event);
    if (name === null) this.nil();
    else this.cached(name);
    if (id === null || id === undefined) this.nil();
    else this.string(id);
    this.cached(workerId);
    this.uint(at);
    this.float(duration);
    if (error === null) this.nil();
    else this.string(error);
    if (outcome === null) this.nil();
    else this.cached(outcome);
    this.float(retryIn);
    this.count++;
  }

  /** The message's bytes (a copy: the buffer is written again), and a fresh start. */
  take(): Buffer {
    this.buffer[0] = 0xdd; // array32
    this.buffer.writeUInt32BE(this.count + 1, 1);
    const message = Buffer.from(this.buffer.subarray(0, this.offset));
    if (this.buffer.length > KEPT_BUFFER_SIZE) {
      const fresh = Buffer.allocUnsafe(INITIAL_BUFFER_SIZE);
      this.buffer.copy(fresh, 0, 0, this.start);
      this.buffer = fresh;
    }
    this.offset = this.start;
    this.count = 0;
    return message;
  }

  private room(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  private nil(): void {
    this.room(1);
    this.buffer[this.offset++] = 0xc0;
  }

  /** A whole number >= 0 (ms since the epoch) as uint64. */
  private uint(value: number): void {
    this.room(9);
    this.buffer[this.offset] = 0xcf;
    this.buffer.writeUInt32BE(Math.floor(value / 2 ** 32), this.offset + 1);
    this.buffer.writeUInt32BE(value >>> 0, this.offset + 5);
    this.offset += 9;
  }

  private float(value: number | null | undefined): void {
    if (value === null || value === undefined) return this.nil();
    this.room(9);
    this.buffer[this.offset] = 0xcb;
    this.buffer.writeDoubleBE(value, this.offset + 1);
    this.offset += 9;
  }

  /** A string that repeats: its bytes are made once. */
  private cached(value: string): void {
    if (value.length > CACHED_STRING_LENGTH) return this.string(value);
    let bytes = this.strings.get(value);
    if (bytes === undefined) {
      if (this.strings.size >= STRING_CACHE_LIMIT) this.strings.clear();
      bytes = encodeString(value);
      this.strings.set(value, bytes);
    }
    const length = bytes.length;
    this.room(length);
    // Byte by byte: for the short strings here, faster than a native copy's call.
    const buffer = this.buffer;
    let at = this.offset;
    for (let i = 0; i < length; i++) buffer[at++] = bytes[i]!;
    this.offset = at;
  }

  private string(value: string): void {
    const size = Buffer.byteLength(value);
    this.room(size + 5);
    this.offset = writeStringHeader(this.buffer, this.offset, size);
    this.offset += this.buffer.write(value, this.offset);
  }
}

function encodeString(value: string): Buffer {
  const size = Buffer.byteLength(value);
  const bytes = Buffer.allocUnsafe(size + 5);
  const start = writeStringHeader(bytes, 0, size);
  bytes.write(value, start);
  return bytes.subarray(0, start + size);
}

/** Writes a MessagePack str header for `size` bytes at `offset`; returns where the bytes go. */
function writeStringHeader(buffer: Buffer, offset: number, size: number): number {
  if (size < 32) {
    buffer[offset] = 0xa0 | size;
    return offset + 1;
  }
  if (size < 256) {
    buffer[offset] = 0xd9;
    buffer[offset + 1] = size;
    return offset + 2;
  }
  if (size < 65_536) {
    buffer[offset] = 0xda;
    buffer.writeUInt16BE(size, offset + 1);
    return offset + 3;
  }
  buffer[offset] = 0xdb;
  buffer.writeUInt32BE(size, offset + 1);
  return offset + 5;
}
