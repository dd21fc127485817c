import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled worker-app fixture (test/fixtures/worker-app.ts). */
export const WORKER_APP = fileURLToPath(new URL('../fixtures/worker-app.js', import.meta.url));

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything the process printed on stdout so far. */
  output(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
}

export function spawnProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
): Spawned {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return {
    child,
    output: () => stdout,
    exited,
    waitForLine(pattern, timeout = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `No line matching ${pattern} within ${timeout} ms.\nstdout:\n${stdout}\nstderr:\n${stderr}`,
              ),
            ),
          timeout,
        );
        const check = () => {
          const line = stdout.split('\n').find((candidate) => pattern.test(candidate));
          if (line !== undefined) {
            clearTimeout(timer);
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(
              new Error(
                `Process exited before printing ${pattern}.\nstdout:\n${stdout}\nstderr:\n${stderr}`,
              ),
            );
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

/** Starts the fixture worker app and waits until it is online. */
export async function startWorkerApp(env: Record<string, string>): Promise<Spawned> {
  const spawned = spawnProcess(process.execPath, [WORKER_APP], env);
  await spawned.waitForLine(/^ready/);
  return spawned;
}
