import type { DelayedModuleOptions } from 'nestjs-delayed';

/** What the API and the worker share: where Redis is and which queue they talk about. */
export const delayedOptions: DelayedModuleOptions = {
  connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  queue: 'sample-emails',
};
