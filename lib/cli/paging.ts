import { MAX_INSPECT_PAGE } from '../core/index.js';
import type { CommandInput, OptionSpec } from './command.js';
import { wholeNumber } from './arguments.js';

/** Entries a listing shows when --limit is not given. */
export const DEFAULT_PAGE_SIZE = 50;

/** --offset and --limit of a listing by index (waiting, scheduled, dead letters). */
export const PAGE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  offset: {
    type: 'string',
    value: '<n>',
    description: 'entries to skip from the start (default 0)',
  },
  limit: {
    type: 'string',
    value: '<n>',
    description: `entries to show, 1 to ${MAX_INSPECT_PAGE} (default ${DEFAULT_PAGE_SIZE})`,
  },
};

export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** The page a listing asked for, checked. */
export function pageRequest(values: CommandInput['values']): PageRequest {
  return {
    offset: wholeNumber(values, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0,
    limit: wholeNumber(values, 'limit', { min: 1, max: MAX_INSPECT_PAGE }) ?? DEFAULT_PAGE_SIZE,
  };
}

/**
 * The line under a page: which entries it showed out of how many, and the option that
 * shows the next page.
 */
export function pageFooter(
  page: PageRequest,
  shown: number,
  total: number,
  what: string,
  queue: string,
): string {
  if (shown === 0) {
    return page.offset === 0
      ? `No ${what} in ${queue}.`
      : `No ${what} in ${queue} from offset ${page.offset} (${total} in all).`;
  }
  const last = page.offset + shown;
  const next = last < total ? ` Next page: --offset ${last}` : '';
  return `${what[0]!.toUpperCase()}${what.slice(1)} ${page.offset + 1}-${last} of ${total}.${next}`;
}
