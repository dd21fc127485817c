import { Module } from '@nestjs/common';
import { DelayedModule } from 'nestjs-delayed';
import { delayedOptions } from './delayed.config.js';
import { MailerService } from './mailer.service.js';

/**
 * The worker: the same connection and queue, with the worker on, and the providers whose
 * @Task() methods it runs. Its sweeper (on where a worker runs) recovers tasks of dead workers.
 */
@Module({
  imports: [
    DelayedModule.forRoot({
      ...delayedOptions,
      worker: { concurrency: 4 },
      sweeper: { interval: 30_000 },
    }),
  ],
  providers: [MailerService],
})
export class WorkerModule {}
