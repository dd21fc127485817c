import type { ContenderId } from '../contenders/index.js';

/** What the bench and its soak worker process (soak-worker.ts) tell each other. */
export interface SoakWorkerConfig {
  readonly contender: ContenderId;
  readonly host: string;
  readonly port: number;
  readonly total: number;
  readonly timeLimitMs: number;
  readonly concurrency: number;
}

export interface SoakSample {
  readonly t: number;
  readonly done: number;
  readonly rss: number;
  readonly heapUsed: number;
}

/** The baseline is taken once this share of the tasks is done (JIT warm, buffers at size). */
export const WARM_SHARE = 0.05;
