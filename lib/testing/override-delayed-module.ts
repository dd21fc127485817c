import type { DynamicModule, Type } from '@nestjs/common';
import { InvalidOptionsError } from '../core/index.js';
import type { DataQueueDefinition } from '../data-queue-definition.js';
import {
  DELAYED_DATA_QUEUE_DEFINITIONS,
  DELAYED_MODULE_OPTIONS,
  getQueueToken,
} from '../delayed.constants.js';
import { DelayedModule } from '../delayed.module.js';
import type { DelayedModuleOptions } from '../delayed.options.js';
import { DelayedTestingModule } from './delayed-testing.module.js';
import type { DelayedTestingOptions } from './delayed-testing.options.js';

/** What `overrideDelayedModule` needs of a `TestingModuleBuilder` (from @nestjs/testing). */
export interface ModuleOverrider {
  overrideModule(module: Type<unknown> | DynamicModule): {
    useModule(module: DynamicModule): unknown;
  };
}

/** A module as an `imports` list may hold it. */
type ImportEntry = Type<unknown> | DynamicModule | { forwardRef: () => unknown };

/**
 * Swaps the `DelayedModule.forRoot(…)` (or `forRootAsync`) that `root` imports, directly or
 * through the modules it imports, for `DelayedTestingModule.forRoot(options)`, on a testing
 * module builder. Nest's `overrideModule` matches a dynamic module by identity, so it cannot
 * be given `DelayedModule` itself; this finds the very import to replace. The replacement
 * keeps the real module's queue, named queues, data queues and `isGlobal` when they are
 * written in `forRoot` (not for `forRootAsync`, whose options come from a factory: give
 * `queue` here; its queues and data queues, given beside the factory, are kept). A data
 * queue without its own `redisTimeout` takes the real forRoot's, as it does in the real
 * module.
 *
 * ```ts
 * const moduleRef = await overrideDelayedModule(
 *   Test.createTestingModule({ imports: [AppModule] }),
 *   AppModule,
 * ).compile();
 * ```
 */
export function overrideDelayedModule<B extends ModuleOverrider>(
  builder: B,
  root: Type<unknown> | DynamicModule,
  options: DelayedTestingOptions = {},
): B {
  const found = findDelayedImports(root);
  const where = nameOf(root);
  if (found.length === 0) {
    throw new InvalidOptionsError(
      `overrideDelayedModule(): ${where} does not import DelayedModule (nor do the modules it imports); import DelayedTestingModule.forRoot() in the testing module instead`,
    );
  }
  if (found.length > 1) {
    throw new InvalidOptionsError(
      `overrideDelayedModule(): ${where} imports DelayedModule ${found.length} times; import DelayedTestingModule.forRoot() in the testing module, beside the modules under test, instead`,
    );
  }
  const real = found[0]!;
  builder
    .overrideModule(real)
    .useModule(DelayedTestingModule.forRoot({ ...settingsOf(real), ...options }));
  return builder;
}

/** Every import of DelayedModule under `root`, each once. */
function findDelayedImports(root: ImportEntry): (Type<unknown> | DynamicModule)[] {
  const found: (Type<unknown> | DynamicModule)[] = [];
  const seen = new Set<unknown>();
  const visit = (entry: unknown): void => {
    if (entry === null || entry === undefined || seen.has(entry)) return;
    seen.add(entry);
    if (typeof entry === 'object' && 'forwardRef' in entry) {
      visit((entry as { forwardRef: () => unknown }).forwardRef());
      return;
    }
    if (typeof entry === 'function') {
      if (entry === DelayedModule) found.push(entry as Type<unknown>);
      else importsOf(entry).forEach(visit);
      return;
    }
    // A lazily resolved import (a Promise) cannot be searched without awaiting it.
    if (typeof entry === 'object' && 'module' in entry) {
      const dynamic = entry as DynamicModule;
      if (dynamic.module === DelayedModule) {
        found.push(dynamic);
        return;
      }
      (dynamic.imports ?? []).forEach(visit);
      visit(dynamic.module);
    }
  };
  visit(root);
  return found;
}

/** The imports `@Module()` recorded on a class ('imports' is Nest's metadata key for them). */
function importsOf(type: object): unknown[] {
  const imports: unknown = Reflect.getMetadata('imports', type);
  return Array.isArray(imports) ? imports : [];
}

/** The queue, named queues, data queues and scope written in a real `DelayedModule.forRoot(…)`. */
function settingsOf(real: Type<unknown> | DynamicModule): DelayedTestingOptions {
  if (typeof real === 'function') return {};
  const settings: DelayedTestingOptions = {};
  let given: DelayedModuleOptions | undefined;
  let dataQueues: readonly DataQueueDefinition[] = [];
  for (const provider of real.providers ?? []) {
    if (typeof provider !== 'object' || !('provide' in provider) || !('useValue' in provider)) {
      continue;
    }
    if (provider.provide === DELAYED_MODULE_OPTIONS) {
      given = provider.useValue as DelayedModuleOptions | undefined;
    } else if (provider.provide === DELAYED_DATA_QUEUE_DEFINITIONS) {
      dataQueues = provider.useValue as DataQueueDefinition[];
    }
  }
  if (typeof given?.queue === 'string') settings.queue = given.queue;
  const prefix = getQueueToken('');
  const queues = (real.exports ?? [])
    .filter((token): token is string => typeof token === 'string' && token.startsWith(prefix))
    .map((token) => token.slice(prefix.length));
  if (queues.length > 0) settings.queues = queues;
  if (dataQueues.length > 0) {
    // As in the real module, a data queue takes forRoot's redisTimeout (not its deadLetter,
    // which is about tasks) when it has none of its own.
    const inherited: { redisTimeout?: number } = {};
    if (given?.redisTimeout !== undefined) inherited.redisTimeout = given.redisTimeout;
    settings.dataQueues = dataQueues.map((definition) => ({ ...inherited, ...definition }));
  }
  if (typeof real.global === 'boolean') settings.isGlobal = real.global;
  return settings;
}

function nameOf(module: Type<unknown> | DynamicModule): string {
  return typeof module === 'function' ? module.name : module.module.name;
}
