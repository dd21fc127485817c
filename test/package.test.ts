import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('the package', () => {
  it('is importable by its own name from a built checkout', async () => {
    const api = await import('nestjs-delayed');
    for (const name of [
      'DelayedModule',
      'Task',
      'DelayedQueue',
      'InjectQueue',
      'PyTask',
      'GoTask',
      'NodeTask',
      'getQueueToken',
    ]) {
      assert.ok(name in api, `nestjs-delayed exports ${name}`);
    }
    const core = await import('nestjs-delayed/core');
    for (const name of [
      'Queue',
      'Worker',
      'Sweeper',
      'HandlerRegistry',
      'encodeTask',
      'decodeTask',
    ]) {
      assert.ok(name in core, `nestjs-delayed/core exports ${name}`);
    }
    const dashboard = await import('nestjs-delayed/dashboard');
    assert.ok('DelayedDashboardModule' in dashboard, 'nestjs-delayed/dashboard exports it');
    const testing = await import('nestjs-delayed/testing');
    for (const name of [
      'DelayedTestingModule',
      'InlineTasks',
      'overrideDelayedModule',
      'waitForDrained',
      'DrainTimeoutError',
    ]) {
      assert.ok(name in testing, `nestjs-delayed/testing exports ${name}`);
    }
    assert.ok('waitForDrained' in core, 'the engine has its own waitForDrained');
    assert.ok(!('DelayedTestingModule' in api), 'the testing module stays out of the main entry');
    const tracing = await import('nestjs-delayed/tracing');
    for (const name of ['DelayedTracingModule', 'tracingInstrument', 'traceContextInjector']) {
      assert.ok(name in tracing, `nestjs-delayed/tracing exports ${name}`);
    }
    const metrics = await import('nestjs-delayed/metrics');
    for (const name of ['DelayedMetricsModule', 'DelayedMetrics', 'DEFAULT_DURATION_BUCKETS']) {
      assert.ok(name in metrics, `nestjs-delayed/metrics exports ${name}`);
    }
    const health = await import('nestjs-delayed/health');
    for (const name of ['DelayedHealthModule', 'DelayedHealthIndicator']) {
      assert.ok(name in health, `nestjs-delayed/health exports ${name}`);
    }
  });

  it('loads @opentelemetry/api only from nestjs-delayed/tracing, which nothing else imports', () => {
    const outside = tsFiles(libDir).filter((file) => !file.startsWith(tracingDir));
    assert.ok(outside.length > 5);
    for (const file of outside) {
      const source = readFileSync(file, 'utf8');
      assert.doesNotMatch(source, /from '@opentelemetry\//, `${file} imports OpenTelemetry`);
      assert.doesNotMatch(source, /from '[./]+tracing\//, `${file} imports the tracing entry`);
    }
  });

  it('loads the optional peers only from the entry points that need them', () => {
    // Every file the main and core entry points load, following relative imports.
    const eager = new Set<string>();
    const visit = (file: string): void => {
      if (eager.has(file)) return;
      eager.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, path] of source.matchAll(/(?:from|import)\s+'(\.[^']+)'/g)) {
        visit(fileURLToPath(new URL(path!.replace(/\.js$/, '.ts'), `file://${file}`)));
      }
    };
    visit(`${libDir}index.ts`);
    visit(`${coreDir}index.ts`);
    assert.ok(eager.size > 20);
    for (const file of eager) {
      assert.doesNotMatch(
        readFileSync(file, 'utf8'),
        /from '(prom-client|@nestjs\/terminus|@opentelemetry\/[^']+)'/,
        `${file} is loaded by 'nestjs-delayed' or its core, yet imports an optional peer`,
      );
    }
    assert.ok(![...eager].some((file) => /\/lib\/(metrics|health|testing|tracing)\//.test(file)));
  });

  it('loads the dashboard only where it is imported: the main entry never does', () => {
    const eager = readdirSync(libDir)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => libDir + file);
    for (const file of eager) {
      assert.doesNotMatch(
        readFileSync(file, 'utf8'),
        /from '\.\/dashboard\//,
        `${file} imports the dashboard`,
      );
    }
    for (const file of tsFiles(dashboardDir)) {
      for (const [, path] of readFileSync(file, 'utf8').matchAll(/from '(\.\.\/core\/[^']+)'/g)) {
        assert.equal(path, '../core/index.js', `${file} imports ${path}, past core's barrel`);
      }
    }
  });

  it('keeps the engine free of Nest: lib/core never imports @nestjs/*', () => {
    const sources = tsFiles(coreDir);
    assert.ok(sources.length > 5);
    for (const file of sources) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /from '@nestjs\//, `${file} imports Nest`);
    }
  });

  it('lets the Nest glue reach the engine only through its barrel, lib/core/index.ts', () => {
    const glue = readdirSync(libDir)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => libDir + file);
    assert.ok(glue.length > 5);
    for (const file of glue) {
      for (const [, path] of readFileSync(file, 'utf8').matchAll(/from '(\.\/core\/[^']+)'/g)) {
        assert.equal(path, './core/index.js', `${file} imports ${path}, past core's barrel`);
      }
    }
    // And the glue's own entry points one folder down.
    for (const dir of ['testing', 'tracing', 'metrics', 'health']) {
      for (const file of tsFiles(`${libDir}${dir}/`)) {
        const source = readFileSync(file, 'utf8');
        for (const [, path] of source.matchAll(/from '(\.\.\/core\/[^']+)'/g)) {
          assert.equal(path, '../core/index.js', `${file} imports ${path}, past core's barrel`);
        }
      }
    }
  });
});

const libDir = fileURLToPath(new URL('../../lib/', import.meta.url));
const coreDir = fileURLToPath(new URL('../../lib/core/', import.meta.url));
const dashboardDir = fileURLToPath(new URL('../../lib/dashboard/', import.meta.url));
const tracingDir = fileURLToPath(new URL('../../lib/tracing/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(`${dir}${entry.name}/`)
      : entry.name.endsWith('.ts')
        ? [`${dir}${entry.name}`]
        : [],
  );
}
