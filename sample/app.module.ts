import { Module } from '@nestjs/common';
import { DelayedModule } from 'nestjs-delayed';
import { MailerService } from './mailer.service.js';
import { SignupController } from './signup.controller.js';

/**
 * One module for the API and the worker: the HTTP app enqueues, the worker app (same module,
 * started with createApplicationContext) consumes. Set WORKER=false where you only enqueue.
 */
@Module({
  imports: [
    DelayedModule.forRoot({
      connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      queue: 'sample-emails',
      worker: process.env.WORKER === 'false' ? false : { concurrency: 4 },
      sweeper: { interval: 30_000 },
    }),
  ],
  controllers: [SignupController],
  providers: [MailerService],
})
export class AppModule {}
