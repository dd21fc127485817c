import { Module } from '@nestjs/common';
import { DelayedModule } from 'nestjs-delayed';
import { delayedOptions } from './delayed.config.js';
import { SignupController } from './signup.controller.js';

/**
 * The API node: it only enqueues, which is what an app does unless its options turn the
 * worker on. `delay(MailerService, …)` needs no MailerService provider here: the task's
 * name comes from the class's @Task() metadata.
 */
@Module({
  imports: [DelayedModule.forRoot(delayedOptions)],
  controllers: [SignupController],
})
export class AppModule {}
