import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('the package', () => {
  it('is importable by its own name from a built checkout', async () => {
    const api = await import('nestjs-delayed');
    for (const name of ['DelayedModule', 'Task', 'DelayedQueue', 'InjectQueue', 'PyTask', 'GoTask', 'NodeTask', 'getQueueToken']) {
      assert.ok(name in api, `nestjs-delayed exports ${name}`);
    }
    const core = await import('nestjs-delayed/core');
    for (const name of ['Queue', 'Worker', 'Sweeper', 'HandlerRegistry', 'encodeTask', 'decodeTask']) {
      assert.ok(name in core, `nestjs-delayed/core exports ${name}`);
    }
  });

  it('keeps the engine free of Nest: lib/core never imports @nestjs/*', () => {
    const dir = fileURLToPath(new URL('../../lib/core/', import.meta.url));
    const sources = readdirSync(dir).filter((file) => file.endsWith('.ts'));
    assert.ok(sources.length > 5);
    for (const file of sources) {
      assert.doesNotMatch(readFileSync(dir + file, 'utf8'), /from '@nestjs\//, `${file} imports Nest`);
    }
  });
});
