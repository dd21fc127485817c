import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedQueue, Task } from 'nestjs-delayed';

/**
 * Task handlers live on ordinary providers. This one also enqueues follow-up work: a
 * receipt after every welcome mail.
 */
@Injectable()
export class MailerService {
  private readonly logger = new Logger(MailerService.name);

  constructor(private readonly queue: DelayedQueue) {}

  @Task() // runs as 'MailerService:sendWelcome'
  async sendWelcome(to: string, name: string): Promise<void> {
    await sleep(20); // pretend to talk to an SMTP server
    this.logger.log(`processed sendWelcome: welcome mail sent to ${name} <${to}>`);
    await this.queue.delay(MailerService, 'logReceipt', to);
  }

  @Task({ retry: 3 }) // a failure is retried up to 3 times, then kept as a dead letter
  logReceipt(to: string): void {
    this.logger.log(`processed logReceipt: receipt logged for ${to}`);
  }
}
