import type { CommandInput } from '../command.js';
import { wholeNumber } from '../arguments.js';
import { UsageError } from '../cli-errors.js';
import type { PageRequest } from '../paging.js';

/**
 * Which dead letters a command that changes them acts on (`dead requeue`, `dead remove` and
 * their `data` forms): the ones `dead list` shows at --offset/--limit now, or with `--all`
 * (requeue only) every one. Checked before anything is sent to Redis.
 */

/** Dead letters requeued or removed per round trip (the engine's requeue batch size). */
export const LETTERS_PER_STEP = 500;

/** --offset and a required --limit; `all` says whether the command takes --all instead. */
export function chosenRange(
  input: CommandInput,
  command: string,
  { all }: { readonly all: boolean },
): PageRequest {
  const limit = wholeNumber(input.values, 'limit', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (limit === undefined) {
    throw new UsageError(
      all
        ? 'say which letters: --all, or --limit <n> [--offset <n>]'
        : 'say which letters: --limit <n> [--offset <n>]',
      command,
    );
  }
  const offset = wholeNumber(input.values, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
  return { offset, limit };
}

/** A requeue's choice: undefined for --all, else the range --offset/--limit names. */
export function requeueRange(input: CommandInput, command: string): PageRequest | undefined {
  const all = input.values['all'] === true;
  const range = all ? undefined : chosenRange(input, command, { all: true });
  if (all && (input.values['offset'] !== undefined || input.values['limit'] !== undefined)) {
    throw new UsageError('use either --all or --offset/--limit, not both', command);
  }
  return range;
}

/**
 * Items in groups of LETTERS_PER_STEP: each group is one bounded step, so a large requeue
 * is not reported as timed out while its steps keep answering.
 */
export function inSteps<T>(items: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += LETTERS_PER_STEP) {
    groups.push(items.slice(i, i + LETTERS_PER_STEP));
  }
  return groups;
}

/** The line a requeue or removal prints: what it did, and how many were gone meanwhile. */
export function selectionSummary(what: string, selected: number, done: number): string {
  if (selected === 0) return 'No dead letters there: nothing to do.';
  const gone = selected - done;
  return gone > 0 ? `${what} (${gone} of the ${selected} read were gone meanwhile).` : `${what}.`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
