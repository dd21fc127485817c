import { fileURLToPath } from 'node:url';
import { type Spawned, spawnProcess } from './processes.js';

/** The compiled data-consumer fixture (test/fixtures/data-consumer.ts). */
export const DATA_CONSUMER = fileURLToPath(
  new URL('../fixtures/data-consumer.js', import.meta.url),
);

/**
 * What a data-consumer process prints, one JSON line per event, in the order it happened.
 * Times are ms on Redis' clock; `b` names one batch (one get) across all processes.
 */
export type ConsumerEvent =
  /** A get took `ids` under a lease ending at `end` (0: taken for good). */
  | { readonly e: 'got'; readonly b: string; readonly end: number; readonly ids: string[] }
  /** A refresh of the batch moved its lease to `end` and kept `ids` (the others were lost). */
  | { readonly e: 'refresh'; readonly b: string; readonly end: number; readonly ids: string[] }
  /** The consumer is about to send the batch's done; Redis' clock read just before. */
  | { readonly e: 'doing'; readonly b: string; readonly t: number }
  /** done(batch) returned `n`. */
  | { readonly e: 'done'; readonly b: string; readonly n: number }
  /** done() of each item alone, under the batch's lease: id -> what it returned (0 or 1). */
  | { readonly e: 'done'; readonly b: string; readonly per: Record<string, number> };

/**
 * Starts a data-consumer process and waits until it is about to take its first items.
 * Settings (all strings, as environment variables) are described in the fixture.
 */
export async function startDataConsumer(env: Record<string, string>): Promise<Spawned> {
  const spawned = spawnProcess(process.execPath, [DATA_CONSUMER], env);
  await spawned.waitForLine(/^ready$/);
  return spawned;
}

/** The events a consumer printed; a line cut by a SIGKILL (no newline yet) is not one. */
export function consumerEvents(output: string): ConsumerEvent[] {
  const complete = output.slice(0, output.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ConsumerEvent);
}

/** How many batches a consumer has taken so far (from its output). */
export function batchesTaken(output: string): number {
  return output.split('\n').filter((line) => line.startsWith('{"e":"got"')).length;
}
