import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things are. The bench runs compiled from `.build/bench/`, so the project root is two
 * levels up; results and the Python peer scripts live in the source folder `bench/`.
 */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchSourceDir = join(projectRoot, 'bench');
export const resultsDir = join(benchSourceDir, 'results');
export const profilesDir = join(resultsDir, 'profiles');
export const peersDir = join(benchSourceDir, 'peers');
export const compiledBenchDir = join(projectRoot, '.build', 'bench');
export const pythonPeer = join(projectRoot, 'test', 'interop', 'python', '.venv', 'bin', 'python');
