import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { DelayedQueue } from 'nestjs-delayed';
import { MailerService } from './mailer.service.js';

@Controller('signups')
export class SignupController {
  constructor(private readonly queue: DelayedQueue) {}

  /** POST /signups {"email": "...", "name": "..."} answers at once; the mail goes out in the background. */
  @Post()
  @HttpCode(202)
  async signup(@Body() body: { email: string; name: string }): Promise<{ queued: true }> {
    // Type-checked: MailerService.sendWelcome takes (to: string, name: string).
    await this.queue.delay(MailerService, 'sendWelcome', body.email, body.name);
    return { queued: true };
  }
}
