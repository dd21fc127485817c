// The worker: a Nest app without HTTP. SIGTERM/SIGINT drain running tasks, then exit.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module.js';

const app = await NestFactory.createApplicationContext(WorkerModule);
app.enableShutdownHooks();
console.log('worker ready');
