import { toJsonText } from './json.js';

/** Cuts text to `width` characters, ending in an ellipsis when it had to cut. */
export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * A duration for people: "850ms", "4.9s", "3m 20s", "2h 5m", "3d 4h". Negative durations
 * keep their sign; callers word them ("ago") themselves.
 */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${(Math.floor(abs / 100) / 10).toFixed(1)}s`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const first = units.findIndex(([, size]) => abs >= size);
  const [bigName, bigSize] = units[first]!;
  const [smallName, smallSize] = units[first + 1]!;
  const big = Math.floor(abs / bigSize);
  const small = Math.floor((abs - big * bigSize) / smallSize);
  return `${sign}${big}${bigName}${small > 0 ? ` ${small}${smallName}` : ''}`;
}

/** When something happens relative to now: "in 59.8s", "12.0s ago", "now". */
export function formatRelative(at: number, now: number): string {
  const delta = at - now;
  if (delta === 0) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** An instant as ISO 8601 in UTC, to the millisecond. */
export function formatInstant(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** A task's arguments on one line: the args array, then the kwargs object when it has keys. */
export function formatArguments(
  args: readonly unknown[] | null,
  kwargs: Readonly<Record<string, unknown>> | null,
): string {
  if (args === null) return '';
  const parts = [toJsonText(args)];
  if (kwargs !== null && Object.keys(kwargs).length > 0) parts.push(toJsonText(kwargs));
  return parts.join(' ');
}
