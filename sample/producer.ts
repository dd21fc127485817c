// Enqueues a few signups without HTTP, the way a script or a cron job would, then exits.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DelayedQueue } from 'nestjs-delayed';
import { AppModule } from './app.module.js';
import { MailerService } from './mailer.service.js';

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
const queue = app.get(DelayedQueue);
const people = [
  ['ada@example.com', 'Ada'],
  ['grace@example.com', 'Grace'],
  ['linus@example.com', 'Linus'],
] as const;
for (const [email, name] of people) {
  await queue.delay(MailerService, 'sendWelcome', email, name);
  console.log(`enqueued sendWelcome for ${name}`);
}
await app.close();
