import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Browser, Page } from 'puppeteer-core';
import { DelayedModule } from '../../lib/index.js';
import { encodeTask, PyTask, Queue } from '../../lib/core/index.js';
import { encodeDeadLetter } from '../../lib/core/queue/dead-letters.js';
import { DelayedDashboardModule, type PageView } from '../../lib/dashboard/index.js';
import { MAX_PAGE_SIZE } from '../../lib/dashboard/dashboard.views.js';
import {
  json,
  launchChromium,
  postJson,
  type RunningApp,
  startApp,
  watchedPage,
} from '../helpers/dashboard.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';

// The dashboard's budget: every read is O(page size), never O(queue length). A queue of a
// million waiting tasks (and 200,000 scheduled, 100,000 dead letters, 20,000 running, 600
// schedules) is browsed in Chromium and through the API while MONITOR, on a Redis of this
// file's own, records every command the app sends; each must be O(1) or a bounded range.
// No timing is asserted: a command list is.

const db = useRedisServer({ private: true });

const WAITING = 1_000_000;
const SCHEDULED = 200_000;
const DEAD = 100_000;
const RUNNING = 20_000;
/** More than a listpack holds (hash-max-listpack-entries, 512 by default), so HSCAN pages. */
const SCHEDULES = 600;

/** Commands that cost O(1) (or O(log n)) whatever the queue's size. */
const CONSTANT = new Set([
  'llen',
  'hlen',
  'zcard',
  'exists',
  'time',
  'multi',
  'exec',
  'pttl',
  'info',
  'client',
  'select',
  'ping',
  'evalsha',
  'eval',
  'script',
  'zrem',
  'rpush',
  'set',
  'del',
  'publish',
]);

interface Recorded {
  readonly args: string[];
  readonly source: string;
}

/** Why a command breaks the budget, or null when it keeps to it. */
function overBudget({ args, source }: Recorded, deadKey: string): string | null {
  const name = args[0]!.toLowerCase();
  const int = (i: number) => Number(args[i]);
  const range = (start: number, stop: number) =>
    start >= 0 && stop >= start && stop - start + 1 <= MAX_PAGE_SIZE;
  if (CONSTANT.has(name)) return null;
  switch (name) {
    case 'lrange':
    case 'zrange':
      // By index only (no BYSCORE/BYLEX, no -1), at most a page.
      if (args.length <= 5 && (args[4] === undefined || /^withscores$/i.test(args[4])))
        return range(int(2), int(3)) ? null : `range ${args[2]}..${args[3]}`;
      return 'a ZRANGE that is not by index';
    case 'hscan':
      return /^count$/i.test(args[3] ?? '') && int(4) <= MAX_PAGE_SIZE && args.length === 5
        ? null
        : 'HSCAN without a page-sized COUNT';
    case 'zmscore':
      // The members of one HSCAN page (COUNT is a hint: a page may hold a few more).
      return args.length - 2 <= 2 * MAX_PAGE_SIZE ? null : `${args.length - 2} members`;
    case 'zrangebylex':
      // The cancel script: the first member at or after an id.
      return source === 'lua' && /^limit$/i.test(args[4] ?? '') && args[6] === '1'
        ? null
        : 'ZRANGEBYLEX without LIMIT 1';
    case 'lrem':
      // One dead letter: it walks the dead-letter list (bounded by deadLetter.maxLength) up
      // to that letter, never the queue; the dashboard's docs say so.
      return args[1] === deadKey && args[2] === '1' ? null : 'LREM of anything but one dead letter';
    default:
      return 'not a command the dashboard should send';
  }
}

let browser: Browser;
let app: RunningApp;
let queue: Queue;
let monitor: Redis | undefined;
const recorded: Recorded[] = [];

/** Fills the queue's keys straight, in pipelines of bounded commands. */
async function fill(redis: Redis, name: string): Promise<void> {
  const task = encodeTask(new PyTask('jobs:tiny', [1]));
  const keys = new Queue(redis, name).keys;
  for (let i = 0; i < WAITING; i += 100_000) {
    const pipeline = redis.pipeline();
    for (let j = 0; j < 100_000; j += 10_000) {
      pipeline.rpush(keys.tasks, ...Array.from({ length: 10_000 }, () => task));
    }
    await pipeline.exec();
  }
  const due = Date.now() + 3_600_000;
  for (let i = 0; i < SCHEDULED; i += 10_000) {
    const args: (number | Buffer)[] = [];
    for (let j = i; j < i + 10_000; j++) {
      // A member is the task's id (due time, then an 8-byte suffix) and its bytes.
      const member = Buffer.alloc(16 + task.length);
      member.writeBigUInt64BE(BigInt(due + j), 0);
      member.writeBigUInt64BE(BigInt(j), 8);
      task.copy(member, 16);
      args.push(due + j, member);
    }
    await redis.zadd(keys.scheduled, ...args);
  }
  for (let i = 0; i < DEAD; i += 10_000) {
    const letters = Array.from({ length: 10_000 }, (_, j) =>
      encodeDeadLetter(name, {
        task: encodeTask(new PyTask('jobs:tiny', [i + j])),
        reason: 'failed',
        error: `failure ${i + j}`,
        funcPath: 'jobs:tiny',
      }),
    );
    await redis.rpush(keys.dead, ...letters);
  }
  for (let i = 0; i < RUNNING; i += 5_000) {
    const fields: (string | Buffer)[] = [];
    for (let j = i; j < i + 5_000; j++) fields.push(j.toString(16).padStart(32, '0'), task);
    await redis.hset(keys.processing, ...fields);
  }
  const queue = new Queue(redis, name);
  for (let i = 0; i < SCHEDULES; i++) {
    await queue.schedules.set(
      `report-${i}`,
      { every: 3_600_000 + i },
      new PyTask('jobs:report', [i]),
    );
  }
}

async function shows(page: Page, selector: string, expected: string): Promise<void> {
  await page.waitForFunction(
    `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() === ${JSON.stringify(expected)}`,
    { timeout: 15_000 },
  );
}

async function clickTab(page: Page, tab: string, rowSelector: string): Promise<void> {
  await page.click(`[data-tab="${tab}"]`);
  await page.waitForSelector(`table[data-list="${tab}"] ${rowSelector}`, { timeout: 15_000 });
}

/** Clicks a pager button and waits for another first row (told by `attribute`, or its # cell). */
async function clickNext(
  page: Page,
  label: string,
  rowSelector: string,
  attribute: string,
): Promise<void> {
  const first = `(() => { const row = document.querySelector(${JSON.stringify(rowSelector)}); return row && (row.getAttribute(${JSON.stringify(attribute)}) ?? row.cells[0].textContent); })()`;
  const before = (await page.evaluate(first)) as string;
  const [button] = await page.$$(`xpath/.//button[normalize-space()="${label}"]`);
  assert.ok(button, `a ${label} button`);
  assert.equal(
    await button.evaluate((node) => (node as unknown as { disabled: boolean }).disabled),
    false,
    `${label} is enabled`,
  );
  await button.click();
  await page.waitForFunction(`${first} !== ${JSON.stringify(before)}`, { timeout: 15_000 });
}

describe('the dashboard on a queue of a million tasks', () => {
  before(async () => {
    const name = uniqueName('million');
    await fill(db.redis, name);
    queue = new Queue(db.redis, name);
    @Module({
      imports: [
        DelayedModule.forRoot({ connection: db.server.url, queue: name }),
        DelayedDashboardModule.register({ path: 'queues', actions: true, sampleInterval: 200 }),
      ],
    })
    class AppModule {}
    browser = await launchChromium();
    // From here on, every command any client sends is recorded; the test's own client
    // sends none until the recording ends.
    monitor = await db.server.client().monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      recorded.push({ args, source });
    });
    app = await startApp(AppModule);
  });

  after(async () => {
    await app?.close();
    monitor?.disconnect();
    await browser?.close();
  });

  it('shows it, pages through it and acts on it with bounded commands only', async () => {
    const { page, problems } = await watchedPage(browser);
    const base = `${app.url}/queues`;
    const name = queue.name;
    try {
      await page.goto(base);
      const row = `tr[data-queue="${name}"]`;
      await shows(page, `${row} [data-count="waiting"]`, '1,000,000');
      await shows(page, `${row} [data-count="scheduled"]`, '200,000');
      await shows(page, `${row} [data-count="dead"]`, '100,000');
      await shows(page, `${row} [data-count="running"]`, '20,000');
      await shows(page, `${row} [data-count="schedules"]`, '600');

      await page.click(`${row} a`);
      await page.waitForSelector('tr[data-worker]');
      await clickNext(page, 'Next page', 'tr[data-worker]', 'data-worker');
      await clickTab(page, 'waiting', 'td.args');
      await clickNext(page, 'Next', 'table[data-list="waiting"] tbody tr', 'data-none');
      await clickTab(page, 'scheduled', 'tr[data-scheduled]');
      await clickNext(page, 'Next', 'tr[data-scheduled]', 'data-scheduled');
      await clickTab(page, 'schedules', 'tr[data-schedule]');
      await clickNext(page, 'Next page', 'tr[data-schedule]', 'data-schedule');
      await clickTab(page, 'dead', 'tr[data-dead]');
      await clickNext(page, 'Next', 'tr[data-dead]', 'data-dead');
      await page.click('tr[data-dead] button[data-action="requeue"]');
      await shows(page, '[data-tab="dead"] .count', '99,999');
      assert.deepEqual(problems, []);

      // The far ends of each listing, at the largest page, through the API.
      const last = async (path: string) =>
        (await json<PageView<unknown>>(await fetch(`${base}/api/queues/${name}/${path}`))).items;
      assert.equal((await last(`waiting?offset=${WAITING + 1 - 50}&limit=100`)).length, 50);
      assert.equal((await last(`scheduled?offset=${SCHEDULED - 100}&limit=100`)).length, 100);
      const dead = (await last(`dead?offset=${DEAD - 101}&limit=100`)) as {
        offset: number;
        ref: string;
      }[];
      assert.equal(dead.length, 100);
      const newest = dead[dead.length - 1]!;
      const removed = await postJson(`${base}/api/queues/${name}/dead/remove`, newest);
      assert.equal(removed.status, 200);
      const cancelled = await postJson(`${base}/api/queues/${name}/scheduled/cancel`, {
        id: ((await last(`scheduled?offset=${SCHEDULED - 1}&limit=1`)) as { id: string }[])[0]!.id,
      });
      assert.equal(cancelled.status, 200);
      assert.equal((await postJson(`${base}/api/queues/${name}/pause`)).status, 200);
      assert.equal((await postJson(`${base}/api/queues/${name}/resume`)).status, 200);
      // Requeue all: a page at a time.
      const all = await postJson(`${base}/api/queues/${name}/dead/requeue-all`);
      assert.deepEqual(await json(all), { requeued: DEAD - 2, skipped: 0 });
    } finally {
      await page.close();
    }
    monitor?.disconnect();
    monitor = undefined;

    const fromApp = recorded.filter(({ args }) => args[0]!.toLowerCase() !== 'monitor');
    const names = new Set(fromApp.map(({ args }) => args[0]!.toLowerCase()));
    // The recording saw the reads and the actions (so the checks below check something).
    for (const expected of ['lrange', 'zrange', 'hscan', 'zmscore', 'pttl', 'llen', 'evalsha']) {
      assert.ok(names.has(expected), `MONITOR recorded ${expected}: ${[...names].join(', ')}`);
    }
    const broken = fromApp
      .map((command) => [overBudget(command, queue.keys.dead), command] as const)
      .filter(([reason]) => reason !== null)
      .map(([reason, { args, source }]) => `${reason}: ${args.slice(0, 6).join(' ')} (${source})`);
    assert.deepEqual(broken.slice(0, 20), [], `${broken.length} command(s) over budget`);

    // And the requeue-all moved them all, a page per script call.
    assert.equal(await db.redis.llen(queue.keys.dead), 0);
    assert.equal(await db.redis.llen(queue.keys.tasks), WAITING + DEAD - 1);
  });
});
