import { toJsonText } from './json.js';
import { ARGS_WIDTH } from './task-cells.js';
import { truncate } from './text.js';

/** How wide an ITEM cell may grow before it is cut with an ellipsis (as an ARGS cell is). */
export const ITEM_WIDTH = ARGS_WIDTH;

/**
 * A data item for a table: its JSON text, as --json prints it (bytes as base64, integers
 * beyond 2^53 as decimal text), on one line and cut to ITEM_WIDTH.
 */
export function itemCell(item: unknown): string {
  // JSON has no text for undefined; MessagePack has no undefined either, but be safe.
  return truncate((toJsonText(item) as string | undefined) ?? String(item), ITEM_WIDTH);
}
