// The worker: a Nest app without HTTP. SIGTERM/SIGINT drain running tasks, then exit.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.createApplicationContext(AppModule);
app.enableShutdownHooks();
console.log('worker ready');
