import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { peersDir, pythonPeer } from '../paths.js';

/**
 * Runs a Python bench driver from bench/peers with the interop venv's Python and resolves
 * with the JSON line it printed with `"event": "done"` (undefined if none), its exit code and
 * the end of its stderr, for the caller to check. The driver stops itself after `timeLimitS`;
 * a driver still running 30 s past that is killed.
 */
export function runPythonDriver<Done extends { readonly event: string }>(
  script: string,
  args: readonly string[],
  timeLimitS: number,
): Promise<{
  readonly code: number | null;
  readonly done: Done | undefined;
  readonly stderr: string;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      pythonPeer,
      [join(peersDir, script), ...args, '--time-limit', String(timeLimitS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeLimitS + 30) * 1000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      const done = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Done)
        .find((doc) => doc.event === 'done');
      resolve({ code, done, stderr: stderr.slice(-2000) });
    });
  });
}
