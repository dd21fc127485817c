import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import type { Browser, Page } from 'puppeteer-core';
import { DelayedModule, DelayedQueue, Task } from '../../lib/index.js';
import { encodeTask, NodeTask, PyTask, Queue } from '../../lib/core/index.js';
import { encodeDeadLetter } from '../../lib/core/queue/dead-letters.js';
import { DelayedDashboardModule } from '../../lib/dashboard/index.js';
import { launchChromium, type RunningApp, startApp, watchedPage } from '../helpers/dashboard.js';
import { eventually, uniqueName, useRedisServer } from '../helpers/redis-server.js';

// The dashboard as a user sees it: a real Nest app with a real worker, the page in a real
// headless Chromium, every check made on what the page shows.

const db = useRedisServer();

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser?.close());

/** Tasks of `Jobs.hold` wait here until the test lets them end. */
let release!: () => void;
let gate = new Promise<void>((resolve) => (release = resolve));

@Injectable()
class Jobs {
  @Task()
  async hold(order: number): Promise<number> {
    await gate;
    return order;
  }

  @Task({ retry: 0 })
  explode(order: number): void {
    throw new Error(`card declined for order ${order}`);
  }
}

interface Scene {
  readonly running: RunningApp;
  readonly queue: Queue;
  readonly pageUrl: string;
}

/**
 * An app whose worker (2 slots) holds two tasks, with 3 dead letters, 4 tasks waiting, 2
 * scheduled for later and one cron schedule; the dashboard at /admin/queues.
 */
async function scene(actions: boolean): Promise<Scene> {
  gate = new Promise<void>((resolve) => (release = resolve));
  const name = uniqueName('orders');
  @Module({
    imports: [
      DelayedModule.forRoot({
        connection: db.server.url,
        queue: name,
        worker: { concurrency: 2, dequeueTimeout: 100 },
      }),
      DelayedDashboardModule.register({ path: 'admin/queues', actions, sampleInterval: 200 }),
    ],
    providers: [Jobs],
  })
  class AppModule {}
  const running = await startApp(AppModule);
  const delayed = running.app.get(DelayedQueue);
  const queue = new Queue(db.redis, name);
  for (const order of [1, 2, 3]) await delayed.delay(Jobs, 'explode', order);
  await eventually(async () => (await queue.deadLetters.count()) === 3, 10_000, '3 dead letters');
  await delayed.delay(Jobs, 'hold', 10);
  await delayed.delay(Jobs, 'hold', 11);
  await eventually(async () => (await queue.processingCount()) === 2, 10_000, '2 running');
  for (const order of [20, 21, 22, 23]) await delayed.delay(Jobs, 'hold', order);
  await queue.schedule(new NodeTask('Jobs:hold', [30]), { delay: 3_600_000 });
  await queue.schedule(new NodeTask('Jobs:hold', [31]), { delay: 7_200_000 });
  await queue.schedules.set('yearly-report', { cron: '0 3 1 1 *' }, new PyTask('reports:year'));
  return { running, queue, pageUrl: `${running.url}/admin/queues` };
}

async function close(scene: Scene | undefined): Promise<void> {
  release();
  await scene?.running.close();
}

/** The text of the cells of `selector`'s rows, row by row. */
function rows(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(selector, (found) =>
    found.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent!.trim())),
  );
}

/** Waits until the count shown in `selector` reads `expected`. */
async function shows(page: Page, selector: string, expected: string): Promise<void> {
  try {
    // A string: this project compiles without the DOM's types; it runs in the page.
    await page.waitForFunction(
      `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() === ${JSON.stringify(expected)}`,
      { timeout: 10_000 },
    );
  } catch (error) {
    const actual = await page.$eval(selector, (node) => node.textContent).catch(() => 'nothing');
    throw new Error(`${selector} shows ${JSON.stringify(actual)}, not ${expected}`, {
      cause: error,
    });
  }
}

async function openTab(page: Page, tab: string, rowSelector: string): Promise<void> {
  await page.click(`[data-tab="${tab}"]`);
  await page.waitForSelector(`table[data-list="${tab}"] ${rowSelector}`, { timeout: 10_000 });
}

describe('the dashboard page in Chromium', () => {
  it('shows the counts, running tasks by worker, scheduled tasks, schedules and dead letters, and acts on them', async () => {
    let current: Scene | undefined;
    const { page, problems } = await watchedPage(browser);
    try {
      current = await scene(true);
      const { queue } = current;
      await page.goto(current.pageUrl);
      const row = `tr[data-queue="${queue.name}"]`;
      await page.waitForSelector(row);
      await shows(page, `${row} [data-count="waiting"]`, '4');
      await shows(page, `${row} [data-count="running"]`, '2');
      await shows(page, `${row} [data-count="scheduled"]`, '2');
      await shows(page, `${row} [data-count="dead"]`, '3');
      await shows(page, `${row} [data-count="schedules"]`, '1');
      assert.equal(await page.$eval('#mode', (node) => node.textContent), 'actions on');

      // The queue's own view opens on its running tasks: one row per worker slot.
      await page.click(`${row} a`);
      await page.waitForSelector('table[data-list="running"] tr[data-worker]');
      const workers = await page.$$eval('tr[data-worker]', (found) =>
        found.map((node) => node.getAttribute('data-worker')!),
      );
      assert.deepEqual(workers.sort(), (await db.redis.hkeys(queue.keys.processing)).sort());
      const running = await rows(page, 'tr[data-worker]');
      for (const cells of running) {
        assert.match(cells[1]!, /^alive/);
        assert.equal(cells[2], 'Jobs:hold');
      }
      assert.deepEqual(running.map((cells) => cells[3]).sort(), ['[10]', '[11]']);

      await openTab(page, 'waiting', 'tr');
      assert.deepEqual(
        (await rows(page, 'table[data-list="waiting"] tbody tr')).map((cells) => cells[2]),
        ['[20]', '[21]', '[22]', '[23]'],
      );

      await openTab(page, 'scheduled', 'tr[data-scheduled]');
      const scheduled = await rows(page, 'tr[data-scheduled]');
      assert.deepEqual(
        scheduled.map((cells) => [cells[1], cells[2]]),
        [
          ['Jobs:hold', '[30]'],
          ['Jobs:hold', '[31]'],
        ],
      );
      assert.match(scheduled[0]![0]!, /in 59m|in 1h 00m/);

      await openTab(page, 'schedules', 'tr[data-schedule]');
      const [schedule] = await rows(page, 'tr[data-schedule]');
      assert.equal(schedule![0], 'yearly-report');
      assert.equal(schedule![1], 'cron 0 3 1 1 * (UTC)');
      assert.equal(schedule![3], 'reports:year');

      await openTab(page, 'dead', 'tr[data-dead]');
      const dead = await rows(page, 'tr[data-dead]');
      assert.deepEqual(
        dead.map((cells) => [cells[2], cells[3], cells[4]]),
        [1, 2, 3].map((order) => ['failed', `card declined for order ${order}`, 'Jobs:explode']),
      );

      // Requeue the second one: it goes back into the queue (both slots are busy, so it waits).
      await page.click('tr[data-dead="1"] button[data-action="requeue"]');
      await shows(page, '[data-tab="dead"] .count', '2');
      await shows(page, '[data-card="waiting"] .value', '5');
      assert.match(await page.$eval('#notice', (node) => node.textContent!), /requeued/);
      assert.deepEqual(await db.redis.lrangeBuffer(queue.name, -1, -1), [
        encodeTask(new NodeTask('Jobs:explode', [2])),
      ]);
      assert.deepEqual(
        (await rows(page, 'tr[data-dead]')).map((cells) => cells[3]),
        ['card declined for order 1', 'card declined for order 3'],
      );

      // Remove the first (after its confirmation).
      await page.click('tr[data-dead="0"] button[data-action="remove"]');
      await shows(page, '[data-tab="dead"] .count', '1');
      assert.equal(await queue.deadLetters.count(), 1);

      // Cancel the first scheduled task.
      await openTab(page, 'scheduled', 'tr[data-scheduled]');
      await page.click('tr[data-scheduled] button[data-action="cancel"]');
      await shows(page, '[data-tab="scheduled"] .count', '1');
      assert.equal(await queue.scheduledCount(), 1);

      // Pause, then resume.
      await page.click('button[data-action="pause"]');
      await page.waitForSelector('[data-queue-title] .badge.paused');
      assert.equal(await queue.isPaused(), true);
      await page.click('button[data-action="resume"]');
      await page.waitForSelector('button[data-action="pause"]');
      assert.equal(await queue.isPaused(), false);

      // Back to all queues: the counts changed there too.
      await page.click('.crumbs a');
      await shows(page, `${row} [data-count="dead"]`, '1');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await close(current);
    }
  });

  it('read-only: shows no action button, and user data only as text', async () => {
    let current: Scene | undefined;
    const { page, problems } = await watchedPage(browser);
    try {
      current = await scene(false);
      const { queue } = current;
      // A dead letter whose argument and error are markup: it must show as text.
      const markup = '<img src=x onerror="document.title=\'pwned\'">';
      await db.redis.rpush(
        queue.keys.dead,
        encodeDeadLetter(queue.name, {
          task: encodeTask(new PyTask('evil:<b>task</b>', [markup])),
          reason: 'failed',
          error: `<script>document.title='pwned'</script>`,
          funcPath: 'evil:<b>task</b>',
        }),
      );
      await page.goto(current.pageUrl);
      const row = `tr[data-queue="${queue.name}"]`;
      await shows(page, `${row} [data-count="dead"]`, '4');
      assert.equal(await page.$eval('#mode', (node) => node.textContent), 'read-only');
      await page.click(`${row} a`);
      await page.waitForSelector('tr[data-worker]');
      for (const [tab, selector] of [
        ['scheduled', 'tr[data-scheduled]'],
        ['schedules', 'tr[data-schedule]'],
        ['dead', 'tr[data-dead]'],
      ] as const) {
        await openTab(page, tab, selector);
        assert.equal(await page.$$eval('button[data-action]', (found) => found.length), 0, tab);
      }
      const last = (await rows(page, 'tr[data-dead]'))[3]!;
      assert.equal(last[3], `<script>document.title='pwned'</script>`);
      assert.equal(last[4], 'evil:<b>task</b>');
      assert.equal(last[5], JSON.stringify([markup]));
      assert.equal(await page.$$eval('main img, main script, main b', (found) => found.length), 0);
      assert.notEqual(await page.title(), 'pwned');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await close(current);
    }
  });
});
