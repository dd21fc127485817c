/** The command line of `bench/run.ts`. */
export interface BenchOptions {
  /** A few hundred tasks, one repeat, no soak; results go to gitignored smoke-* files. */
  readonly smoke: boolean;
  /** Measured runs per scenario and contender (a discarded warm-up run comes first). */
  readonly repeats: number;
  /** Also run the worker RSS soak (minutes). */
  readonly soak: boolean;
  /** Base task count; each scenario derives its size from it (see sizes.ts). */
  readonly n: number;
  /** Only these scenario ids (e.g. `add,drain`); undefined runs them all. */
  readonly only: readonly string[] | undefined;
  /** Pin Redis and the bench to separate CPUs (see affinity.ts). */
  readonly pin: boolean;
}

export const USAGE = `Usage: node .build/bench/run.js [options]    (npm run bench -- [options])

  --smoke        a few hundred tasks, 1 repeat, no soak (CI); writes bench/results/smoke-*
  --repeats N    measured runs per scenario and contender (default 3; smoke 1)
  --n N          base task count (default 5000; smoke 300)
  --soak         also run the worker RSS soak (1,000,000 tasks for nestjs-delayed, bounded in time)
  --only LIST    comma-separated scenario groups: add,drain,latency,memory,scheduled,results,operate,ceiling,peers,data,cluster,soak
  --no-pin       leave CPU placement to the scheduler (default: Redis on the last CPU, the bench on the others)
  --help         this text
`;

export const SCENARIO_GROUPS = [
  'add',
  'drain',
  'latency',
  'memory',
  'scheduled',
  'results',
  'operate',
  'ceiling',
  'peers',
  'data',
  'cluster',
  'soak',
] as const;

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let smoke = false;
  let soak = false;
  let repeats: number | undefined;
  let n: number | undefined;
  let only: string[] | undefined;
  let pin = true;

  const args = argv.flatMap((arg) =>
    arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg],
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case '--smoke':
        smoke = true;
        break;
      case '--soak':
        soak = true;
        break;
      case '--no-pin':
        pin = false;
        break;
      case '--repeats':
        repeats = positiveInteger(arg, value());
        break;
      case '--n':
        n = positiveInteger(arg, value());
        break;
      case '--only': {
        only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = only.filter((id) => !(SCENARIO_GROUPS as readonly string[]).includes(id));
        if (unknown.length > 0)
          throw new UsageError(`--only: unknown scenario group(s) ${unknown.join(', ')}`);
        break;
      }
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`Unknown argument ${arg}`);
    }
  }
  if (smoke && soak)
    throw new UsageError('--smoke and --soak do not go together (the smoke run must stay short)');
  if (only?.includes('soak')) soak = true;
  return {
    smoke,
    soak,
    repeats: repeats ?? (smoke ? 1 : 3),
    n: n ?? (smoke ? 300 : 5000),
    only,
    pin,
  };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} needs a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Whether a scenario group runs under these options. */
export function wants(options: BenchOptions, group: (typeof SCENARIO_GROUPS)[number]): boolean {
  if (group === 'soak') return options.soak;
  return options.only === undefined || options.only.includes(group);
}
