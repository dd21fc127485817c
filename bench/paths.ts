import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things are. The bench runs compiled (`.build/bench/*.js`), so the compiled files sit
 * beside this module and the project root is two levels up (BENCH_PROJECT_ROOT overrides it
 * when the bench was compiled elsewhere). Results and the Python peer scripts live in the
 * source folder `bench/`.
 */
export const compiledBenchDir = dirname(fileURLToPath(import.meta.url));
export const projectRoot = process.env.BENCH_PROJECT_ROOT
  ? resolve(process.env.BENCH_PROJECT_ROOT)
  : resolve(compiledBenchDir, '..', '..');
export const benchSourceDir = join(projectRoot, 'bench');
export const resultsDir = join(benchSourceDir, 'results');
export const profilesDir = join(resultsDir, 'profiles');
export const peersDir = join(benchSourceDir, 'peers');
export const pythonPeer = join(projectRoot, 'test', 'interop', 'python', '.venv', 'bin', 'python');
