import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts, loaded once from the `.lua` files beside this module and run by SHA.
 * A server that does not know a script yet (fresh start, SCRIPT FLUSH, failover) answers
 * NOSCRIPT, and the script is then sent whole, which also caches it for the next call.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; bulk replies come back as Buffers, integers as numbers. */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function load(name: string): LuaScript {
  return new LuaScript(name, readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8'));
}

export const scripts = {
  enqueue: load('enqueue'),
  dequeue: load('dequeue'),
  requeueLost: load('requeue_lost'),
  requeueDead: load('requeue_dead'),
} as const;
