import type { Backoff } from './core/index.js';
import { TASK_METADATA } from './delayed.constants.js';
import type { TaskOptions } from './task.decorator.js';

/** What `@Task()` says about one method, with the default name filled in. */
export interface TaskMetadata {
  readonly name: string;
  readonly queue: string | undefined;
  readonly retry: number;
  readonly backoff: Backoff | undefined;
}

/**
 * Reads `@Task()` metadata straight from a class, so a producer can name a handler's task
 * without the class being a provider in its app.
 */
export function getTaskMetadata(
  type: { readonly prototype: unknown; readonly name: string },
  method: string,
): TaskMetadata | undefined {
  const target = (type.prototype as Record<string, unknown> | undefined)?.[method];
  if (typeof target !== 'function') return undefined;
  const options = Reflect.getMetadata(TASK_METADATA, target) as TaskOptions | undefined;
  if (options === undefined) return undefined;
  return {
    name: options.name ?? `${type.name}:${method}`,
    queue: options.queue,
    retry: options.retry ?? 0,
    backoff: options.backoff,
  };
}
