import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { uniqueName, useRedisServer } from './helpers/redis-server.js';

// The published tarball as a CommonJS Nest app (`nest new`: module commonjs, moduleResolution
// node) sees it: packed with npm, unpacked into the app's node_modules, the app compiled with
// tsc and run with node, which require()s the package's ES modules (Node 20.19+, 22.12+).
// The work dir is under .build/, so the package's own imports (ioredis, @nestjs/*, ...)
// resolve by walking up to the repo's node_modules: no install, no network.

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;

const db = useRedisServer();

const APP_TSCONFIG = {
  compilerOptions: {
    module: 'commonjs',
    moduleResolution: 'node',
    target: 'ES2022',
    lib: ['ES2022'],
    types: ['node'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    outDir: 'dist',
    rootDir: 'src',
  },
  include: ['src/**/*.ts'],
};

const APP_MAIN = `import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DELAYED_CONNECTION, type DelayedConnection, DelayedModule, DelayedQueue, Task } from 'nestjs-delayed';
import { Queue, RETRY_FOREVER } from 'nestjs-delayed/core';
import { DelayedTestingModule, InlineTasks } from 'nestjs-delayed/testing';
// With no OpenTelemetry SDK registered, tracing is a no-op: the task runs as without it.
import { DelayedTracingModule } from 'nestjs-delayed/tracing';
import { DelayedHealthIndicator, DelayedHealthModule } from 'nestjs-delayed/health';
import { DelayedMetricsModule } from 'nestjs-delayed/metrics';
import { Registry } from 'prom-client';
import { DelayedDashboardModule } from 'nestjs-delayed/dashboard';

const [url, queueName] = process.argv.slice(2);

let ran!: (said: string) => void;
const done = new Promise<string>((resolve) => (ran = resolve));

@Injectable()
class Greeter {
  @Task()
  greet(name: string): void {
    ran('hello ' + name);
  }
}

const registry = new Registry();

@Module({
  imports: [
    DelayedModule.forRoot({ connection: url, queue: queueName, worker: { concurrency: 1 } }),
    DelayedTracingModule.forRoot(),
    DelayedMetricsModule.forRoot({ registry }),
    DelayedHealthModule,
    DelayedDashboardModule.register({ path: 'admin/queues' }),
  ],
  providers: [Greeter],
})
class AppModule {}

@Module({ imports: [DelayedTestingModule.forRoot({ queue: queueName })], providers: [Greeter] })
class InlineAppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  await app.init();
  const queue = app.get(DelayedQueue);
  // The engine from the subpath, over the module's own connection.
  const engine = new Queue(app.get<DelayedConnection>(DELAYED_CONNECTION).redis, queueName);
  await queue.delay(Greeter, 'greet', 'commonjs');
  const timer = setTimeout(() => {
    console.error('the task did not run within 10 s');
    process.exit(1);
  }, 10_000);
  const said = await done;
  clearTimeout(timer);
  console.log('task ran: ' + said + ' on ' + engine.name + ' (RETRY_FOREVER ' + RETRY_FOREVER + ')');
  // The subpaths: the metrics count the task, the health indicator reports.
  const counted = /delayed_tasks_completed_total\\{queue="[^"]+",task="Greeter:greet"\\} 1/;
  for (let i = 0; i < 100 && !counted.test(await registry.metrics()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const health = await app.get(DelayedHealthIndicator).isHealthy();
  console.log('metrics counted: ' + counted.test(await registry.metrics()) + ', health: ' + health.delayed.status);
  await app.close();

  // The same handler in process, without Redis, through the testing entry.
  const inline = await NestFactory.createApplicationContext(InlineAppModule, { logger: ['error', 'warn'] });
  await inline.init();
  await inline.get(DelayedQueue).delay(Greeter, 'greet', 'inline');
  const tasks = inline.get(InlineTasks);
  await tasks.drain();
  console.log('inline ran: ' + tasks.completed.map((task) => task.name + ' ' + String(task.args[0])).join());
  await inline.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the packed package', () => {
  let work: string;
  let pkg: string;
  let files: string[];

  before(() => {
    mkdirSync(join(root, '.build'), { recursive: true });
    work = mkdtempSync(join(root, '.build', 'package-commonjs-'));
    const packed = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', work],
      { cwd: root, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const [{ filename }] = JSON.parse(packed) as { filename: string }[];
    pkg = join(work, 'app', 'node_modules', 'nestjs-delayed');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, filename), '-C', pkg, '--strip-components=1'], {
      timeout: 30_000,
    });
    files = filesUnder(pkg).map((file) => relative(pkg, file));
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships self-contained source maps and no TypeScript sources', () => {
    const maps = files.filter((file) => file.endsWith('.js.map'));
    assert.ok(maps.length > 5, `the tarball has source maps: ${files.join(', ')}`);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(pkg, file), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      assert.ok(Array.isArray(map.sourcesContent), `${file} has sourcesContent`);
      assert.equal(
        map.sourcesContent.length,
        map.sources.length,
        `${file} has every source inline`,
      );
      for (const content of map.sourcesContent) {
        assert.ok(typeof content === 'string' && content.length > 0, `${file} has a source inline`);
      }
    }
    const sources = files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
    assert.deepEqual(sources, [], 'the tarball has no .ts sources');
  });

  it("ships the dashboard's page assets beside its code", () => {
    for (const file of ['dashboard.js', 'dashboard.css']) {
      assert.ok(files.includes(join('dist', 'dashboard', 'assets', file)), `${file} is packed`);
    }
  });

  it(
    'runs a task in a CommonJS Nest app compiled with moduleResolution node, with the metrics and health subpaths',
    { skip: canRequireEsm ? false : 'this Node cannot require() an ES module (20.19+, 22.12+)' },
    () => {
      const app = join(work, 'app');
      mkdirSync(join(app, 'src'), { recursive: true });
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }),
      );
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(APP_TSCONFIG, null, 2));
      writeFileSync(join(app, 'src', 'main.ts'), APP_MAIN);

      const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
        cwd: app,
        encoding: 'utf8',
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      assert.equal(compiled.status, 0, `tsc failed:\n${compiled.stdout}${compiled.stderr}`);
      const js = readFileSync(join(app, 'dist', 'main.js'), 'utf8');
      assert.match(js, /require\("nestjs-delayed"\)/);
      assert.match(js, /require\("nestjs-delayed\/core"\)/);
      assert.match(js, /require\("nestjs-delayed\/testing"\)/);
      assert.match(js, /require\("nestjs-delayed\/tracing"\)/);
      assert.match(js, /require\("nestjs-delayed\/metrics"\)/);
      assert.match(js, /require\("nestjs-delayed\/health"\)/);
      assert.match(js, /require\("nestjs-delayed\/dashboard"\)/);

      const queue = uniqueName('cjs');
      const run = spawnSync(process.execPath, ['dist/main.js', db.server.url, queue], {
        cwd: app,
        encoding: 'utf8',
        timeout: 30_000,
        killSignal: 'SIGKILL',
      });
      const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      assert.equal(run.signal, null, `the app was killed (timeout?)\n${output}`);
      assert.equal(run.status, 0, `the app failed\n${output}`);
      assert.match(run.stdout, new RegExp(`task ran: hello commonjs on ${queue}`), output);
      assert.match(run.stdout, /inline ran: Greeter:greet inline/, output);
      assert.match(run.stdout, /metrics counted: true, health: up/, output);
    },
  );
});
