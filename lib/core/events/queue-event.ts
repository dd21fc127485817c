import { decodeMsgpack } from '../protocol/msgpack.js';

/** What a worker can tell other processes about a task of a queue. */
export type QueueEventName =
  /** Its handler started. */
  | 'started'
  /** Its handler returned and its end was recorded. */
  | 'completed'
  /** An attempt failed and the task goes back to the queue (at once, or after a backoff). */
  | 'retried'
  /** It failed for good: no retry left (or unrecoverable), and it is a dead letter or dropped. */
  | 'failed'
  /** The shutdown deadline (or a lost connection) stopped it; a sweeper runs it again. */
  | 'interrupted';

export const QUEUE_EVENT_NAMES: readonly QueueEventName[] = [
  'started',
  'completed',
  'retried',
  'failed',
  'interrupted',
];

/**
 * What `publish: true` publishes: every event but `started`, which doubles the traffic and
 * is rarely wanted from afar (name it in a list to have it).
 */
export const DEFAULT_PUBLISHED_EVENTS: readonly QueueEventName[] = [
  'completed',
  'retried',
  'failed',
  'interrupted',
];

/** One task event as it travels between processes. */
export interface QueueEvent {
  readonly event: QueueEventName;
  readonly queue: string;
  /** The task's name; null when its bytes could not be read. */
  readonly name: string | null;
  /** The tracked task's id, when it has one. */
  readonly id: string | null;
  readonly workerId: string;
  /** When the worker saw it, in ms since the epoch (the worker's clock). */
  readonly at: number;
  /** How long its handler ran, in ms (completed, retried, failed, interrupted). */
  readonly duration: number | null;
  /** The error's message, at most 1,024 characters (retried, failed, interrupted). */
  readonly error: string | null;
  /** For failed: 'dead-lettered' or 'dropped'. */
  readonly outcome: 'dead-lettered' | 'dropped' | null;
  /** For retried after a backoff: the wait before the next attempt, in ms. */
  readonly retryIn: number | null;
}

/** The longest error message an event carries: an event is a notice, not a log. */
export const EVENT_ERROR_LENGTH = 1_024;

/*
 * On the wire (see EventMessage, which writes it): one message is the MessagePack array
 * [queue, event, event, …], each event the tuple [event, name, id, workerId, at, duration,
 * error, outcome, retryIn], nil where a field does not apply.
 */

/** Reads a message of `N_events`; events it cannot read are left out, never thrown. */
export function decodeQueueEvents(message: Buffer): QueueEvent[] {
  let decoded: unknown;
  try {
    decoded = decodeMsgpack(message);
  } catch {
    return [];
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'string') return [];
  const queue = decoded[0];
  const events: QueueEvent[] = [];
  for (let i = 1; i < decoded.length; i++) {
    const tuple: unknown = decoded[i];
    if (!Array.isArray(tuple) || tuple.length < 5) continue;
    const [event, name, id, workerId, at, duration, error, outcome, retryIn] = tuple as unknown[];
    if (!QUEUE_EVENT_NAMES.includes(event as QueueEventName)) continue;
    events.push({
      event: event as QueueEventName,
      queue,
      name: typeof name === 'string' ? name : null,
      id: typeof id === 'string' ? id : null,
      workerId: String(workerId),
      at: Number(at),
      duration: typeof duration === 'number' ? duration : null,
      error: typeof error === 'string' ? error : null,
      outcome: outcome === 'dead-lettered' || outcome === 'dropped' ? outcome : null,
      retryIn: typeof retryIn === 'number' ? retryIn : null,
    });
  }
  return events;
}
