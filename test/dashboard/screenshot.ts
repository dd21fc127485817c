import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Module } from '@nestjs/common';
import { DelayedModule, DelayedQueue, Task } from '../../lib/index.js';
import { PyTask, Queue } from '../../lib/core/index.js';
import { DelayedDashboardModule } from '../../lib/dashboard/index.js';
import { launchChromium, startApp } from '../helpers/dashboard.js';
import { startRedis } from '../helpers/redis-server.js';

// Writes the README's pictures of the dashboard: a real app, a real worker and a real
// Chromium, with a workload that makes the charts move for half a minute first.
//   node scripts/dashboard-screenshot.mjs            (builds, then runs this)
// Output, 1280x800 each: docs/dashboard.png (a queue's dead letters, with their actions),
// docs/dashboard-running.png (a queue's running tasks by worker), docs/dashboard-queues.png
// (all queues).

const ORDERS = 'orders';
const EMAILS = 'emails';
const REPORTS = 'reports';

let slowDown = 1;
const pause = (min: number, spread: number) => sleep((min + Math.random() * spread) * slowDown);

@Injectable()
class Checkout {
  @Task({ queue: ORDERS })
  async charge(order: { id: string; amount: number; currency: string }): Promise<string> {
    await pause(40, 160);
    return `charged ${order.id}`;
  }

  @Task({ queue: ORDERS })
  async ship(orderId: string, carrier: string): Promise<void> {
    await pause(20, 60);
    void carrier;
    void orderId;
  }
}

@Injectable()
class Mailer {
  @Task({ queue: EMAILS, retry: 0 })
  async send(to: string, template: string): Promise<void> {
    await pause(10, 40);
    if (to.endsWith('@bounce.example')) {
      throw new Error(`SMTP 550 5.1.1 <${to}>: mailbox unavailable (template ${template})`);
    }
  }
}

function appModule(connection: string) {
  @Module({
    imports: [
      DelayedModule.forRoot({
        connection,
        queue: ORDERS,
        queues: [EMAILS, REPORTS],
        worker: { concurrency: 6, queues: [ORDERS, EMAILS], dequeueTimeout: 200 },
      }),
      DelayedDashboardModule.register({
        path: 'admin/queues',
        actions: true,
        sampleInterval: 250,
        history: 120,
      }),
    ],
    providers: [Checkout, Mailer],
  })
  class AppModule {}
  return AppModule;
}

const customers = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'ken', 'margaret', 'linus'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

async function main(): Promise<void> {
  const redisServer = await startRedis({ private: true });
  const running = await startApp(appModule(redisServer.url));
  const redis = redisServer.client();
  const delayed = running.app.get(DelayedQueue);
  const reports = new Queue(redis, REPORTS);
  const browser = await launchChromium();
  try {
    // A Python-served queue: its tasks wait here (no Python worker in this picture).
    await reports.enqueueMany(
      Array.from({ length: 37 }, (_, i) => new PyTask('reports.tasks:build', ['daily', i + 1])),
    );
    for (let hour = 1; hour <= 6; hour++) {
      await reports.schedule(new PyTask('reports.tasks:export', [`eu-west-${hour}`]), {
        delay: hour * 3_600_000 - 120_000,
      });
    }
    await reports.schedules.set(
      'nightly-report',
      { cron: '0 3 * * *', timeZone: 'Europe/Berlin' },
      new PyTask('reports.tasks:nightly'),
    );
    await delayed.schedules.set('carrier-sync', { every: 900_000 }, Checkout, 'ship', 'all', 'dhl');

    // Half a minute of traffic in waves, so the charts have a shape.
    let order = 1000;
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      const t = (Date.now() - started) / 1000;
      const burst = Math.max(0, Math.round(16 * Math.sin(t / 3.5) + 8 + Math.random() * 4));
      for (let i = 0; i < burst; i++) {
        order++;
        await delayed.delay(Checkout, 'charge', {
          id: `ord_${order}`,
          amount: 500 + Math.floor(Math.random() * 20_000),
          currency: pick(['EUR', 'USD', 'GBP']),
        });
        if (order % 3 === 0) await delayed.delay(Checkout, 'ship', `ord_${order}`, 'dhl');
        const domain = order % 11 === 0 ? 'bounce.example' : 'example.com';
        await delayed.delay(Mailer, 'send', `${pick(customers)}@${domain}`, 'receipt');
      }
      if (order % 5 === 0) {
        await delayed
          .with({ delay: 600_000 + Math.floor(Math.random() * 3_000_000) })
          .delay(Mailer, 'send', `${pick(customers)}@example.com`, 'cart-reminder');
      }
      await sleep(500);
    }
    // Slow the handlers down so the picture catches tasks in flight.
    slowDown = 40;
    await sleep(1_500);

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
    const base = `${running.url}/admin/queues`;
    await page.goto(base);
    await page.waitForSelector(`tr[data-queue="${REPORTS}"]`);
    await page.screenshot({ path: 'docs/dashboard-queues.png' });
    await page.goto(`${base}#queue=${ORDERS}&tab=running`);
    await page.waitForSelector('tr[data-worker]');
    await sleep(300);
    await page.screenshot({ path: 'docs/dashboard-running.png' });
    await page.goto(`${base}#queue=${EMAILS}&tab=dead`);
    await page.waitForSelector('tr[data-dead]');
    await sleep(300);
    await page.screenshot({ path: 'docs/dashboard.png' });
    console.log('Wrote docs/dashboard.png, docs/dashboard-queues.png, docs/dashboard-running.png');
  } finally {
    await browser.close();
    slowDown = 0;
    await running.close();
    await redisServer.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
