import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { describeValue, InvalidOptionsError } from '../core/index.js';

/** Options of `DelayedDashboardModule.register()`; durations in milliseconds. */
export interface DashboardOptions {
  /**
   * Where the page is served, under the app's global prefix if it has one: `'admin/queues'`
   * serves the page at `/admin/queues` and its JSON API under `/admin/queues/api/`. Required.
   */
  path: string;
  /**
   * The queues shown. Default: the queues the DelayedModule knows: its `queue`, its `queues`,
   * the worker's and the scheduler's queues, and every queue a `@Task()` handler serves.
   * Name queues served only by Python or Go workers here.
   */
  queues?: string[];
  /**
   * Whether the page may change anything: requeue or remove dead letters, cancel scheduled
   * tasks, pause and resume queues. Default false: read-only, and every action answers 403.
   */
  actions?: boolean;
  /**
   * Guards run before every route of the dashboard (the page and each API call), as
   * `@UseGuards()` takes them: guard classes (made by Nest in this module, so their
   * dependencies must be global or come from `imports`) or guard instances. Default none:
   * anyone who reaches the app reaches the dashboard, so give one in production.
   */
  guards?: (Type<CanActivate> | CanActivate)[];
  /** Modules the guards' dependencies come from. Default none. */
  imports?: ModuleMetadata['imports'];
  /** How often the counts of every shown queue are sampled for the charts (ms). Default 5,000. */
  sampleInterval?: number;
  /** How many samples each queue's chart keeps (the oldest drop out). Default 360 (30 min at 5 s). */
  history?: number;
}

/** The options with their defaults applied, checked. */
export interface ResolvedDashboardOptions {
  /** The path without leading or trailing slashes. */
  readonly path: string;
  readonly queues: readonly string[] | undefined;
  readonly actions: boolean;
  readonly guards: readonly (Type<CanActivate> | CanActivate)[];
  readonly imports: NonNullable<ModuleMetadata['imports']>;
  readonly sampleInterval: number;
  readonly history: number;
}

export const DEFAULT_SAMPLE_INTERVAL = 5_000;
export const DEFAULT_HISTORY = 360;
/** The shortest sample interval: each sample reads every shown queue's counts. */
export const MIN_SAMPLE_INTERVAL = 100;
/** The most samples kept per queue (memory: a few dozen bytes each). */
export const MAX_HISTORY = 100_000;

const KNOWN = [
  'path',
  'queues',
  'actions',
  'guards',
  'imports',
  'sampleInterval',
  'history',
] as const;

/** Applies the defaults and rejects what cannot work, naming every problem at once. */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `DelayedDashboardModule.register() takes an options object with at least a path, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      problems.push(`unknown option ${key} (known: ${KNOWN.join(', ')})`);
    }
  }

  let path = '';
  if (typeof options.path !== 'string') {
    problems.push(
      `path must be a string such as 'admin/queues', got ${describeValue(options.path)}`,
    );
  } else {
    path = options.path.replace(/^\/+|\/+$/g, '');
    if (path === '') {
      problems.push(
        "path must name a path of its own such as 'admin/queues', not the app's root: the dashboard's routes would shadow the app's",
      );
    } else if (!/^[A-Za-z0-9._~\-/]+$/.test(path) || path.split('/').includes('')) {
      problems.push(
        `path must be plain URL segments (letters, digits, . _ ~ - separated by single /), got ${JSON.stringify(options.path)}`,
      );
    }
  }

  const queues = options.queues;
  if (queues !== undefined) {
    if (!Array.isArray(queues) || queues.length === 0) {
      problems.push(
        'queues must be a non-empty array of queue names (or left out for the defaults)',
      );
    } else if (queues.some((name) => typeof name !== 'string' || name.length === 0)) {
      problems.push('queues must hold non-empty strings');
    } else if (new Set(queues).size !== queues.length) {
      problems.push('queues names a queue twice');
    }
  }

  const actions = options.actions ?? false;
  if (typeof actions !== 'boolean') {
    problems.push(`actions must be true or false, got ${describeValue(actions)}`);
  }

  const guards = options.guards ?? [];
  if (!Array.isArray(guards)) {
    problems.push('guards must be an array of guard classes or instances');
  } else {
    guards.forEach((guard, i) => {
      const isClass = typeof guard === 'function';
      const isInstance =
        guard !== null &&
        typeof guard === 'object' &&
        typeof (guard as CanActivate).canActivate === 'function';
      if (!isClass && !isInstance) {
        problems.push(
          `guards[${i}] must be a guard class or an object with canActivate(), got ${describeValue(guard)}`,
        );
      }
    });
  }

  const imports = options.imports ?? [];
  if (!Array.isArray(imports)) problems.push('imports must be an array of modules');

  const sampleInterval = options.sampleInterval ?? DEFAULT_SAMPLE_INTERVAL;
  if (
    !Number.isInteger(sampleInterval) ||
    sampleInterval < MIN_SAMPLE_INTERVAL ||
    sampleInterval > 2 ** 31 - 1
  ) {
    problems.push(
      `sampleInterval must be a whole number of ms from ${MIN_SAMPLE_INTERVAL} to ${2 ** 31 - 1}, got ${describeValue(sampleInterval)}`,
    );
  }
  const history = options.history ?? DEFAULT_HISTORY;
  if (!Number.isInteger(history) || history < 2 || history > MAX_HISTORY) {
    problems.push(
      `history must be a whole number of samples from 2 to ${MAX_HISTORY}, got ${describeValue(history)}`,
    );
  }

  if (problems.length > 0) {
    throw new InvalidOptionsError(
      `Invalid DelayedDashboardModule options:\n- ${problems.join('\n- ')}`,
    );
  }
  return {
    path,
    queues: queues === undefined ? undefined : [...queues],
    actions,
    guards: [...guards],
    imports: [...imports],
    sampleInterval,
    history,
  };
}
