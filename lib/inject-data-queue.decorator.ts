import { Inject } from '@nestjs/common';
import { getDataQueueToken } from './delayed.constants.js';

/**
 * Injects the `DataQueue` named `name`, listed in `dataQueues` beside the options of
 * forRoot/forRootAsync.
 *
 * ```ts
 * constructor(@InjectDataQueue('clicks') private readonly clicks: DataQueue<Click>) {}
 * ```
 */
export function InjectDataQueue(name: string): ParameterDecorator & PropertyDecorator {
  return Inject(getDataQueueToken(name));
}
