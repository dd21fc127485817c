import 'reflect-metadata';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DelayedQueue, Task } from '../../lib/index.js';
import { DelayedTestingModule, InlineTasks } from '../../lib/testing/index.js';

// The example of docs/operate/testing.md, as written there: it must keep working.

@Injectable()
export class Outbox {
  readonly sent: string[] = [];
  failing = false;

  async send(to: string, subject: string) {
    if (this.failing) throw new Error('smtp down');
    this.sent.push(`${subject} to ${to}`);
  }
}

@Injectable()
export class Mailer {
  constructor(private readonly outbox: Outbox) {}

  @Task({ retry: 2 })
  async welcome(email: string) {
    await this.outbox.send(email, 'Welcome');
  }

  @Task()
  async remind(email: string) {
    await this.outbox.send(email, 'Did you forget something?');
  }
}

@Injectable()
export class Signup {
  constructor(private readonly queue: DelayedQueue) {}

  async register(email: string) {
    await this.queue.delay(Mailer, 'welcome', email);
    await this.queue.with({ delay: 24 * 3_600_000 }).delay(Mailer, 'remind', email);
  }
}

describe('signup', () => {
  let moduleRef: TestingModule;
  let tasks: InlineTasks;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [DelayedTestingModule.forRoot()],
      providers: [Signup, Mailer, Outbox],
    }).compile();
    moduleRef.useLogger(false); // not in the docs: keeps the expected failure out of the output
    await moduleRef.init();
    tasks = moduleRef.get(InlineTasks);
  });

  afterEach(() => moduleRef.close());

  it('sends a welcome mail', async () => {
    await moduleRef.get(Signup).register('ada@example.com');
    await tasks.drain();

    assert.deepEqual(moduleRef.get(Outbox).sent, ['Welcome to ada@example.com']);
    assert.deepEqual(
      tasks.of(Mailer, 'welcome').map((task) => task.args),
      [['ada@example.com']],
    );
    assert.deepEqual(tasks.failed, []);
  });

  it('retries a failing mail twice, then gives up', async () => {
    moduleRef.get(Outbox).failing = true;
    await moduleRef.get(Signup).register('bob@example.com');
    await tasks.drain();

    const [mail] = tasks.failed;
    assert.equal(mail!.attempts, 3);
    assert.equal((mail!.error as Error).message, 'smtp down');
  });

  it('sends the reminder a day later', async () => {
    await moduleRef.get(Signup).register('ada@example.com');
    await tasks.drain();
    assert.equal(tasks.scheduled.length, 1);

    tasks.releaseScheduled();
    await tasks.drain();
    assert.deepEqual(moduleRef.get(Outbox).sent, [
      'Welcome to ada@example.com',
      'Did you forget something? to ada@example.com',
    ]);
  });
});
