// The HTTP API: `node .build/sample/main.js`, then
//   curl -X POST localhost:3000/signups -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'
// It only enqueues; run sample/worker.ts to process.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000));
console.log(`API listening on ${await app.getUrl()}`);
