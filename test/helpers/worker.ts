import type { HandlerRegistry, Queue, WorkerOptions } from '../../lib/core/index.js';
import { Worker } from '../../lib/core/index.js';
import { quietLogger } from './redis-server.js';

/**
 * Runs `body` with a started worker (quiet, 200 ms BLPOPs unless `options` say otherwise),
 * and closes the worker after it, whatever happens.
 */
export async function withWorker(
  options: Partial<WorkerOptions> & { queues: Queue[]; handlers: HandlerRegistry },
  body: (worker: Worker) => Promise<void>,
): Promise<void> {
  const worker = new Worker({ logger: quietLogger, dequeueTimeout: 200, ...options });
  await worker.start();
  try {
    await body(worker);
  } finally {
    await worker.close();
  }
}
