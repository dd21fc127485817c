import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Module,
  UnauthorizedException,
} from '@nestjs/common';
import { DelayedModule, InvalidOptionsError, Task } from '../../lib/index.js';
import { encodeTask, NodeTask, PyTask, Queue } from '../../lib/core/index.js';
import { encodeDeadLetter } from '../../lib/core/queue/dead-letters.js';
import { DelayedDashboardModule } from '../../lib/dashboard/index.js';
import type { DeadLetterView, OverviewView, PageView } from '../../lib/dashboard/index.js';
import { json, postJson, startApp } from '../helpers/dashboard.js';
import { eventually, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

/** An app with the DelayedModule (no worker) and the given dashboard mounts. */
function appModule(
  queue: string,
  ...dashboards: ReturnType<typeof DelayedDashboardModule.register>[]
) {
  @Module({
    imports: [DelayedModule.forRoot({ connection: db.server.url, queue }), ...dashboards],
  })
  class AppModule {}
  return AppModule;
}

/** Dead letters as a worker writes them, for `queue`, named by their argument. */
async function addDeadLetters(queue: Queue, names: string[]): Promise<void> {
  for (const name of names) {
    await db.redis.rpush(
      queue.keys.dead,
      encodeDeadLetter(queue.name, {
        task: encodeTask(new PyTask('jobs:send', [name])),
        reason: 'failed',
        error: `could not send ${name}`,
        funcPath: 'jobs:send',
      }),
    );
  }
}

async function deadPage(base: string, queue: string): Promise<DeadLetterView[]> {
  const page = await json<PageView<DeadLetterView>>(
    await fetch(`${base}/api/queues/${encodeURIComponent(queue)}/dead?limit=100`),
  );
  return page.items;
}

/** A guard with a dependency of its own, made by Nest (it reads a bearer token). */
@Injectable()
class TokenStore {
  readonly token = 'sesame';
}

@Injectable()
class BearerGuard implements CanActivate {
  constructor(private readonly tokens: TokenStore) {}
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    if (request.headers['authorization'] !== `Bearer ${this.tokens.token}`) {
      throw new UnauthorizedException('A bearer token is needed');
    }
    return true;
  }
}

@Module({ providers: [TokenStore], exports: [TokenStore] })
class TokenModule {}

const denyAll: CanActivate = { canActivate: () => false };

describe('the dashboard API', () => {
  it('is off unless mounted: no route answers without register()', async () => {
    const queue = uniqueName();
    const running = await startApp(appModule(queue));
    try {
      assert.equal((await fetch(`${running.url}/admin/queues`)).status, 404);
      assert.equal((await fetch(`${running.url}/admin/queues/api/queues`)).status, 404);
    } finally {
      await running.close();
    }
  });

  it('serves one self-contained page with a strict policy', async () => {
    const queue = uniqueName();
    const running = await startApp(
      appModule(queue, DelayedDashboardModule.register({ path: '/admin/queues/' })),
    );
    try {
      for (const path of ['admin/queues', 'admin/queues/']) {
        const page = await fetch(`${running.url}/${path}`);
        assert.equal(page.status, 200, path);
        assert.match(page.headers.get('content-type')!, /^text\/html/);
        const csp = page.headers.get('content-security-policy')!;
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        const html = await page.text();
        // Nothing is loaded from anywhere: no src, no url(), no address but SVG's namespace.
        assert.doesNotMatch(
          html.replaceAll('http://www.w3.org/2000/svg', ''),
          /\ssrc=|url\(|https?:\/\//,
        );
        assert.doesNotMatch(html, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
      }
    } finally {
      await running.close();
    }
  });

  it('reads counts, history and pages, bounded, of the queues it shows', async () => {
    const name = uniqueName();
    const other = uniqueName();
    const queue = new Queue(db.redis, name);
    await queue.enqueueMany(Array.from({ length: 30 }, (_, i) => new NodeTask('Jobs:run', [i])));
    await queue.schedule(new PyTask('jobs:later', ['x']), { delay: 3_600_000 });
    await queue.schedules.set(
      'nightly',
      { cron: '0 3 * * *', timeZone: 'Europe/Paris' },
      new PyTask('jobs:report'),
    );
    await addDeadLetters(queue, ['a']);
    await db.redis.hset(
      queue.keys.processing,
      'f'.repeat(32),
      encodeTask(new PyTask('jobs:busy', [1])),
    );
    const running = await startApp(
      appModule(
        name,
        DelayedDashboardModule.register({
          path: 'ops',
          queues: [name, other],
          sampleInterval: 100,
          history: 5,
        }),
      ),
    );
    const base = `${running.url}/ops`;
    try {
      const overview = await json<OverviewView>(await fetch(`${base}/api/queues`));
      assert.equal(overview.actions, false);
      assert.deepEqual(
        overview.queues.map((shown) => shown.name),
        [name, other],
      );
      const counts = overview.queues[0]!.counts!;
      assert.deepEqual(
        [counts.waiting, counts.running, counts.scheduled, counts.dead, counts.schedules],
        [30, 1, 1, 1, 1],
      );
      // The sampler fills the history, at most `history` samples.
      const history = (await eventually(
        async () => {
          const again = await json<OverviewView>(await fetch(`${base}/api/queues`));
          const series = again.queues[0]!.history;
          return series.at.length === 5 ? series : undefined;
        },
        5_000,
        'five samples',
      ))!;
      assert.deepEqual(history.waiting, [30, 30, 30, 30, 30]);
      assert.ok(history.at.every((at, i) => i === 0 || at > history.at[i - 1]!));

      const waiting = await json<PageView<{ name: string; args: string }>>(
        await fetch(`${base}/api/queues/${name}/waiting?offset=25&limit=10`),
      );
      assert.deepEqual(
        waiting.items.map((task) => task.args),
        ['[25]', '[26]', '[27]', '[28]', '[29]'],
      );
      assert.equal(waiting.next, null);
      const first = await json<PageView<unknown>>(
        await fetch(`${base}/api/queues/${name}/waiting?limit=10`),
      );
      assert.equal(first.items.length, 10);
      assert.equal(first.next, '10');

      const runningPage = await json<PageView<{ workerId: string; alive: boolean }>>(
        await fetch(`${base}/api/queues/${name}/running`),
      );
      assert.deepEqual(
        runningPage.items.map((item) => [item.workerId, item.alive]),
        [['f'.repeat(32), false]],
      );
      const scheduled = await json<PageView<{ id: string; task: { name: string } }>>(
        await fetch(`${base}/api/queues/${name}/scheduled`),
      );
      assert.equal(scheduled.items[0]!.task.name, 'jobs:later');
      const schedules = await json<PageView<{ name: string; timing: unknown; nextTick: number }>>(
        await fetch(`${base}/api/queues/${name}/schedules`),
      );
      assert.equal(schedules.items[0]!.name, 'nightly');
      assert.deepEqual(schedules.items[0]!.timing, { cron: '0 3 * * *', timeZone: 'Europe/Paris' });
      assert.ok(schedules.items[0]!.nextTick > Date.now());
      const dead = await deadPage(base, name);
      assert.equal(dead[0]!.error, 'could not send a');
      assert.equal(dead[0]!.task!.args, '["a"]');

      // Bounds and names: a page of more than 100 is refused, a queue not shown is unknown.
      const tooBig = await fetch(`${base}/api/queues/${name}/waiting?limit=101`);
      assert.equal(tooBig.status, 400);
      assert.match((await json<{ message: string }>(tooBig)).message, /from 1 to 100/);
      assert.equal((await fetch(`${base}/api/queues/${name}/waiting?offset=-1`)).status, 400);
      assert.equal((await fetch(`${base}/api/queues/${name}/running?cursor=abc`)).status, 400);
      assert.equal((await fetch(`${base}/api/queues/not-shown/waiting`)).status, 404);
    } finally {
      await running.close();
    }
  });

  it('shows the DelayedModule’s queues by default, those of @Task() handlers included', async () => {
    const name = uniqueName();
    const served = uniqueName();
    @Injectable()
    class Jobs {
      @Task({ queue: served })
      run(): void {}
    }
    @Module({
      imports: [
        DelayedModule.forRoot({ connection: db.server.url, queue: name }),
        DelayedDashboardModule.register({ path: 'ops' }),
      ],
      providers: [Jobs],
    })
    class AppModule {}
    const running = await startApp(AppModule);
    try {
      const overview = await json<OverviewView>(await fetch(`${running.url}/ops/api/queues`));
      assert.deepEqual(
        overview.queues.map((shown) => shown.name),
        [name, served],
      );
    } finally {
      await running.close();
    }
  });

  it('is read-only unless actions are on: every action answers 403 and changes nothing', async () => {
    const name = uniqueName();
    const queue = new Queue(db.redis, name);
    await addDeadLetters(queue, ['a']);
    const scheduled = await queue.schedule(new PyTask('jobs:later'), { delay: 3_600_000 });
    const running = await startApp(
      appModule(name, DelayedDashboardModule.register({ path: 'ops' })),
    );
    try {
      const base = `${running.url}/ops/api/queues/${name}`;
      const [letter] = await deadPage(`${running.url}/ops`, name);
      for (const [path, body] of [
        ['dead/requeue', { offset: 0, ref: letter!.ref }],
        ['dead/remove', { offset: 0, ref: letter!.ref }],
        ['dead/requeue-all', {}],
        ['scheduled/cancel', { id: scheduled.id }],
        ['pause', {}],
        ['resume', {}],
      ] as const) {
        const response = await postJson(`${base}/${path}`, body);
        assert.equal(response.status, 403, path);
        assert.match((await json<{ message: string }>(response)).message, /actions: true/);
      }
      assert.equal(await db.redis.llen(queue.keys.dead), 1);
      assert.equal(await db.redis.zcard(queue.keys.scheduled), 1);
      assert.equal(await db.redis.exists(queue.keys.paused), 0);
    } finally {
      await running.close();
    }
  });

  it('runs every route behind the given guards: the page and the API alike', async () => {
    const name = uniqueName();
    const running = await startApp(
      appModule(
        name,
        DelayedDashboardModule.register({ path: 'closed', guards: [denyAll], actions: true }),
        DelayedDashboardModule.register({
          path: 'token',
          guards: [BearerGuard],
          imports: [TokenModule],
          actions: true,
        }),
      ),
    );
    try {
      const routes = (path: string) => [
        fetch(`${running.url}/${path}`),
        fetch(`${running.url}/${path}/api/queues`),
        fetch(`${running.url}/${path}/api/queues/${name}/dead`),
        postJson(`${running.url}/${path}/api/queues/${name}/pause`),
      ];
      for (const response of await Promise.all(routes('closed'))) {
        assert.equal(response.status, 403, response.url);
      }
      for (const response of await Promise.all(routes('token'))) {
        assert.equal(response.status, 401, response.url);
      }
      assert.equal(await db.redis.exists(`${name}_paused`), 0);
      const auth = { authorization: 'Bearer sesame' };
      assert.equal((await fetch(`${running.url}/token`, { headers: auth })).status, 200);
      assert.equal((await fetch(`${running.url}/token/api/queues`, { headers: auth })).status, 200);
      const paused = await postJson(`${running.url}/token/api/queues/${name}/pause`, {}, auth);
      assert.equal(paused.status, 200);
      assert.equal(await db.redis.exists(`${name}_paused`), 1);
    } finally {
      await running.close();
    }
  });

  it('keeps two mounts apart: each its own guards and its own actions setting', async () => {
    const name = uniqueName();
    const running = await startApp(
      appModule(
        name,
        DelayedDashboardModule.register({ path: 'view' }),
        DelayedDashboardModule.register({ path: 'admin', actions: true, guards: [denyAll] }),
      ),
    );
    try {
      assert.equal((await fetch(`${running.url}/view`)).status, 200);
      assert.equal((await fetch(`${running.url}/admin`)).status, 403);
      const view = await json<OverviewView>(await fetch(`${running.url}/view/api/queues`));
      assert.equal(view.actions, false);
      assert.equal((await postJson(`${running.url}/view/api/queues/${name}/pause`)).status, 403);
    } finally {
      await running.close();
    }
  });

  it('requeues and removes exactly the dead letter the page showed, even after the list shifted', async () => {
    const name = uniqueName();
    const queue = new Queue(db.redis, name);
    await addDeadLetters(queue, ['a', 'b', 'c', 'd']);
    const running = await startApp(
      appModule(name, DelayedDashboardModule.register({ path: 'ops', actions: true })),
    );
    const base = `${running.url}/ops/api/queues/${name}`;
    try {
      const seen = await deadPage(`${running.url}/ops`, name);
      assert.deepEqual(
        seen.map((letter) => [letter.offset, letter.task!.args]),
        [
          [0, '["a"]'],
          [1, '["b"]'],
          [2, '["c"]'],
          [3, '["d"]'],
        ],
      );
      // Someone else removes "a": "c" moves from offset 2 to 1, and "d" now sits at offset 2.
      await db.redis.lpop(queue.keys.dead);
      const requeued = await postJson(`${base}/dead/requeue`, {
        offset: 2,
        ref: seen[2]!.ref,
      });
      assert.equal(requeued.status, 200);
      assert.deepEqual(await json(requeued), { requeued: 1 });
      // "c" went back into the queue as it was, with its notification; "d" stayed.
      assert.deepEqual(await db.redis.lrangeBuffer(name, 0, -1), [
        encodeTask(new PyTask('jobs:send', ['c'])),
      ]);
      assert.equal(await db.redis.llen(queue.keys.notifications), 1);
      assert.deepEqual(
        (await deadPage(`${running.url}/ops`, name)).map((letter) => letter.task!.args),
        ['["b"]', '["d"]'],
      );

      // The same click again: that letter is gone, nothing else is touched.
      const again = await postJson(`${base}/dead/requeue`, { offset: 2, ref: seen[2]!.ref });
      assert.equal(again.status, 409);
      assert.equal(await db.redis.llen(queue.keys.dead), 2);

      const removed = await postJson(`${base}/dead/remove`, { offset: 3, ref: seen[3]!.ref });
      assert.deepEqual(await json(removed), { removed: 1 });
      assert.deepEqual(
        (await deadPage(`${running.url}/ops`, name)).map((letter) => letter.task!.args),
        ['["b"]'],
      );
      assert.equal(await db.redis.llen(name), 1);

      const bad = await postJson(`${base}/dead/remove`, { offset: 'x' });
      assert.equal(bad.status, 400);
    } finally {
      await running.close();
    }
  });

  it('requeues every dead letter page by page, and removes an unreadable one', async () => {
    const name = uniqueName();
    const queue = new Queue(db.redis, name);
    await addDeadLetters(
      queue,
      Array.from({ length: 230 }, (_, i) => `n${i}`),
    );
    await db.redis.lpush(queue.keys.dead, Buffer.from([0xc1, 0x00]));
    const running = await startApp(
      appModule(name, DelayedDashboardModule.register({ path: 'ops', actions: true })),
    );
    const base = `${running.url}/ops/api/queues/${name}`;
    try {
      const [unreadable] = await deadPage(`${running.url}/ops`, name);
      assert.equal(unreadable!.reason, 'unreadable');
      assert.equal(unreadable!.task, null);
      assert.equal(
        (await postJson(`${base}/dead/requeue`, { offset: 0, ref: unreadable!.ref })).status,
        409,
      );

      const all = await postJson(`${base}/dead/requeue-all`);
      assert.deepEqual(await json(all), { requeued: 230, skipped: 1 });
      assert.equal(await db.redis.llen(name), 230);
      assert.equal(await db.redis.llen(queue.keys.notifications), 230);
      assert.deepEqual(await db.redis.lrangeBuffer(name, 0, 0), [
        encodeTask(new PyTask('jobs:send', ['n0'])),
      ]);
      assert.equal(await db.redis.llen(queue.keys.dead), 1);

      const removed = await postJson(`${base}/dead/remove`, { offset: 0, ref: unreadable!.ref });
      assert.deepEqual(await json(removed), { removed: 1 });
      assert.equal(await db.redis.exists(queue.keys.dead), 0);
    } finally {
      await running.close();
    }
  });

  it('cancels a scheduled task, and pauses and resumes the queue', async () => {
    const name = uniqueName();
    const queue = new Queue(db.redis, name);
    const kept = await queue.schedule(new PyTask('jobs:keep'), { delay: 3_600_000 });
    const dropped = await queue.schedule(new PyTask('jobs:drop'), { delay: 3_600_000 });
    const running = await startApp(
      appModule(name, DelayedDashboardModule.register({ path: 'ops', actions: true })),
    );
    const base = `${running.url}/ops/api/queues/${name}`;
    try {
      const cancelled = await postJson(`${base}/scheduled/cancel`, { id: dropped.id });
      assert.deepEqual(await json(cancelled), { cancelled: true });
      const left = await json<PageView<{ id: string }>>(await fetch(`${base}/scheduled`));
      assert.deepEqual(
        left.items.map((item) => item.id),
        [kept.id],
      );
      assert.equal((await postJson(`${base}/scheduled/cancel`, { id: dropped.id })).status, 409);
      assert.equal((await postJson(`${base}/scheduled/cancel`, { id: 'nope' })).status, 400);

      assert.deepEqual(await json(await postJson(`${base}/pause`)), {
        paused: true,
        changed: true,
      });
      assert.equal(await queue.isPaused(), true);
      const overview = await json<OverviewView>(await fetch(`${running.url}/ops/api/queues`));
      assert.equal(overview.queues[0]!.counts!.paused, true);
      assert.deepEqual(await json(await postJson(`${base}/pause`)), {
        paused: true,
        changed: false,
      });
      assert.deepEqual(await json(await postJson(`${base}/resume`)), {
        paused: false,
        changed: true,
      });
      assert.equal(await queue.isPaused(), false);
    } finally {
      await running.close();
    }
  });

  it('refuses actions a cross-site page could send: no JSON body, or another site', async () => {
    const name = uniqueName();
    const running = await startApp(
      appModule(name, DelayedDashboardModule.register({ path: 'ops', actions: true })),
    );
    const url = `${running.url}/ops/api/queues/${name}/pause`;
    try {
      // What an HTML form on another site can send.
      for (const type of [
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data',
      ]) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': type },
          body: 'a=1',
        });
        assert.equal(response.status, 415, type);
      }
      const crossSite = await postJson(url, {}, { 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.status, 403);
      assert.equal(await db.redis.exists(`${name}_paused`), 0);
      assert.equal((await postJson(url, {}, { 'sec-fetch-site': 'same-origin' })).status, 200);
    } finally {
      await running.close();
    }
  });

  it('says that it needs DelayedModule when the app has none', async () => {
    @Module({ imports: [DelayedDashboardModule.register({ path: 'ops' })] })
    class Lonely {}
    await assert.rejects(startApp(Lonely), /import DelayedModule\.forRoot\(\)/);
  });

  it('rejects options that cannot work, naming each', () => {
    assert.throws(() => DelayedDashboardModule.register({ path: '/' }), InvalidOptionsError);
    assert.throws(
      () =>
        DelayedDashboardModule.register({
          path: 'a b',
          actions: 'yes' as unknown as boolean,
          sampleInterval: 5,
          history: 1,
          guards: [42 as unknown as CanActivate],
          queues: [],
        }),
      (error: Error) =>
        error instanceof InvalidOptionsError &&
        [
          /path must be plain URL segments/,
          /actions must be true or false/,
          /sampleInterval/,
          /history/,
          /guards\[0\]/,
          /queues must be a non-empty array/,
        ].every((pattern) => pattern.test(error.message)),
    );
    assert.throws(
      () => DelayedDashboardModule.register({ path: 'x', extra: 1 } as never),
      /unknown option extra/,
    );
  });
});
