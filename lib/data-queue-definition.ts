import {
  type DataQueueOptions,
  describeValue,
  InvalidOptionsError,
  resolveDataQueueOptions,
} from './core/index.js';

/** A data queue the module provides, with its options (see `DataQueueOptions`). */
export interface DataQueueDefinition extends DataQueueOptions {
  readonly name: string;
}

/**
 * The data queues given beside the module's options, as definitions: a bare name has the
 * defaults. Throws one error naming every problem (a bad entry, a name given twice, bad
 * options), when forRoot/forRootAsync is called, before any connection is opened.
 */
export function dataQueueDefinitions(
  given: readonly (string | DataQueueDefinition)[],
): DataQueueDefinition[] {
  const problems: string[] = [];
  if (!Array.isArray(given)) {
    throw new InvalidOptionsError(
      `dataQueues must be an array of names or { name, ...options }, got ${describeValue(given)}`,
    );
  }
  const definitions: DataQueueDefinition[] = [];
  const seen = new Set<string>();
  for (const entry of given) {
    const definition: DataQueueDefinition | undefined =
      typeof entry === 'string'
        ? { name: entry }
        : entry !== null && typeof entry === 'object'
          ? entry
          : undefined;
    if (definition === undefined || typeof definition.name !== 'string' || definition.name === '') {
      problems.push(
        `dataQueues must hold non-empty names or { name, ...options }, got ${describeValue(entry)}`,
      );
      continue;
    }
    if (seen.has(definition.name)) {
      problems.push(`dataQueues names "${definition.name}" twice`);
      continue;
    }
    seen.add(definition.name);
    const { name, ...options } = definition;
    try {
      resolveDataQueueOptions(name, options);
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    definitions.push(definition);
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid dataQueues:\n- ${problems.join('\n- ')}`);
  }
  return definitions;
}
