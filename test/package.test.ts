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
  });
});

const libDir = fileURLToPath(new URL('../../lib/', import.meta.url));
const coreDir = fileURLToPath(new URL('../../lib/core/', import.meta.url));
const dashboardDir = fileURLToPath(new URL('../../lib/dashboard/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(`${dir}${entry.name}/`)
      : entry.name.endsWith('.ts')
        ? [`${dir}${entry.name}`]
        : [],
  );
}
