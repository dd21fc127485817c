import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection between runs, so one contender's garbage is not collected on the
 * other's clock. Works without `--expose-gc` on the command line: the flag is set at run time
 * and the `gc` function taken from a fresh context.
 */
setFlagsFromString('--expose-gc');
const gcFunction = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gcFunction();
}
