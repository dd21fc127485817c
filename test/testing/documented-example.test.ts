import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  type DataQueue,
  DelayedQueue,
  getDataQueueToken,
  InjectDataQueue,
  Task,
} from '../../lib/index.js';
import { DelayedTestingModule, InlineTasks } from '../../lib/testing/index.js';

// The examples of docs/operate/testing.md, as written there: they must keep working.

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

// The data queue example ("Data queues").

interface Click {
  page: string;
}

@Injectable()
export class ClickTracker {
  constructor(@InjectDataQueue('clicks') private readonly clicks: DataQueue<Click>) {}

  async track(page: string) {
    await this.clicks.put([{ page }]);
  }

  /** Counts up to 100 clicks into `totals`, then marks them done. */
  async tally(totals: Map<string, number>) {
    const batch = await this.clicks.get(100);
    for (const { page } of batch.values()) totals.set(page, (totals.get(page) ?? 0) + 1);
    await this.clicks.done(batch);
    return batch.size;
  }
}

describe('clicks', () => {
  let moduleRef: TestingModule;
  let clicks: DataQueue<Click>;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        DelayedTestingModule.forRoot({
          dataQueues: [{ name: 'clicks', visibilityTimeout: 30_000, attempts: 3 }],
        }),
      ],
      providers: [ClickTracker],
    }).compile();
    clicks = moduleRef.get(getDataQueueToken('clicks'));
  });

  afterEach(() => moduleRef.close());

  it('counts clicks by page', async () => {
    const tracker = moduleRef.get(ClickTracker);
    await tracker.track('/home');
    await tracker.track('/home');
    await tracker.track('/pricing');

    const totals = new Map<string, number>();
    assert.equal(await tracker.tally(totals), 3);
    assert.deepEqual(
      [...totals],
      [
        ['/home', 2],
        ['/pricing', 1],
      ],
    );
    assert.deepEqual(await clicks.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
  });

  it('gives a batch back when its consumer dies before done', async () => {
    await moduleRef.get(ClickTracker).track('/home');
    const lost = await clicks.get(10, { visibilityTimeout: 50 });
    await sleep(100);

    const again = await clicks.get(10);
    assert.deepEqual([...again.keys()], [...lost.keys()]);
  });
});
