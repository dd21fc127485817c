import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, platform } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

/** What the numbers were measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redis: string;
  readonly nestjsDelayed: string;
  readonly bullmq: string;
  readonly ioredis: string;
  /** Which CPUs Redis and the bench ran on. */
  readonly placement: string;
  /** The engine measured: the git commit, and whether lib/ had uncommitted changes. */
  readonly engine: string;
}

/** `abc1234` or `abc1234 + uncommitted lib/ changes`, read with read-only git commands. */
export function engineRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: projectRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'lib') !== '';
    return dirty ? `${commit} + uncommitted lib/ changes` : commit;
  } catch {
    return 'unknown (no git)';
  }
}

export function packageVersion(name: string): string {
  const file =
    name === '.'
      ? join(projectRoot, 'package.json')
      : join(projectRoot, 'node_modules', name, 'package.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function distribution(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const name = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1];
    if (name) return `${name}, ${platform()} ${release()}`;
  } catch {
    // not Linux, or no os-release
  }
  return `${platform()} ${release()}`;
}

export function machineInfo(redisVersion: string, placement: string): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: distribution(),
    node: process.version,
    redis: redisVersion,
    nestjsDelayed: packageVersion('.'),
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    placement,
    engine: engineRevision(),
  };
}
