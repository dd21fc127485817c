import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The tool as users run it: the package's built bin (npm run build writes dist/). */
export const CLI_MAIN = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** How long the process lived, in ms. */
  readonly ms: number;
}

/** Runs the tool with `args` and collects what it printed and its exit code. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, REDIS_URL: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    // A tool that hangs fails the test instead of holding it for the runner's whole timeout.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nestjs-delayed ${args.join(' ')} did not exit within 15 s`));
    }, 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The cells of the table row whose first cell is `first`. */
export function tableRow(table: string, first: string): string[] {
  const line = table
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.split(/\s{2,}/)[0] === first);
  assert.ok(line, `a row for ${first} in\n${table}`);
  return line.split(/\s{2,}/);
}

/** A usage error: exit code 2, one line on stderr pointing to --help, nothing on stdout. */
export function assertUsageError(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, pattern);
  assert.match(run.stderr, /--help/);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
}
