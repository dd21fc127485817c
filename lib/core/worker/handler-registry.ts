import { DuplicateHandlerError } from '../errors.js';

/** A task handler: called with the task's args, then its kwargs as one last object if any. */
// Parameters are `any`: a handler declares the types its task carries, `(to: string) => …`,
// which a `(...args: unknown[])` type would refuse.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskHandler = (...args: any[]) => unknown;

interface Entry {
  readonly handler: TaskHandler;
  /** Where it came from, for error messages, e.g. "EmailService.send". */
  readonly source: string;
  /** The queue it serves; undefined serves every queue of the worker. */
  readonly queue: string | undefined;
}

/** Task name -> handler. Names are unique: a duplicate is a startup error naming both. */
export class HandlerRegistry {
  private readonly entries = new Map<string, Entry>();

  register(name: string, handler: TaskHandler, source = name, queue?: string): void {
    const existing = this.entries.get(name);
    if (existing) {
      throw new DuplicateHandlerError(
        `Task name "${name}" is claimed by both ${existing.source} and ${source}; give one of them another name with @Task('...')`,
      );
    }
    this.entries.set(name, { handler, source, queue });
  }

  get(name: string): TaskHandler | undefined {
    return this.entries.get(name)?.handler;
  }

  /** Whether some handler may run tasks of this queue. */
  servesQueue(queue: string): boolean {
    for (const entry of this.entries.values()) {
      if (entry.queue === undefined || entry.queue === queue) return true;
    }
    return false;
  }

  /** The queues named by handlers with an explicit queue. */
  queueNames(): string[] {
    const names = new Set<string>();
    for (const entry of this.entries.values())
      if (entry.queue !== undefined) names.add(entry.queue);
    return [...names];
  }

  get size(): number {
    return this.entries.size;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }
}
