// Runs the compiled test files with node's test runner and ends with one line of totals,
// "N passed, N failed".
//   node scripts/run-tests.mjs              everything but the interop and cluster suites
//   node scripts/run-tests.mjs interop      the interop suite against the Python peer
//   node scripts/run-tests.mjs interop-go   the interop suite against the Go peer
//   node scripts/run-tests.mjs cluster      the Redis Cluster and Sentinel suite (test/cluster,
//                                           test/sentinel), each file with its own local setup
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, '.build', 'test');
const suite = process.argv[2] ?? 'main';
const interopFile = { interop: 'python.test.js', 'interop-go': 'go.test.js' }[suite];
if (suite !== 'main' && suite !== 'cluster' && !interopFile) {
  console.error(`Unknown suite ${suite}: use interop, interop-go or cluster`);
  process.exit(2);
}
/** The folders of the cluster suite, which starts several servers per file. */
const CLUSTER_DIRS = ['cluster/', 'sentinel/'];

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = find(testRoot)
  .filter((file) => {
    const path = relative(testRoot, file);
    if (interopFile) return path === `interop/${interopFile}`;
    const inCluster = CLUSTER_DIRS.some((dir) => path.startsWith(dir));
    return suite === 'cluster' ? inCluster : !inCluster && !path.startsWith('interop');
  })
  .sort();
if (files.length === 0) {
  console.error('No test files found; did the build run?');
  process.exit(1);
}

const SUITE_TIMEOUT = 12 * 60_000;

// Outside .build/, which every build wipes: .ci/run reads the totals after later steps.
mkdirSync(join(root, '.test-results'), { recursive: true });
const tap = join(root, '.test-results', `${suite === 'main' ? 'tests' : suite}.tap`);
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    // A test that hangs fails instead of holding CI for its whole budget.
    '--test-timeout=120000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  // And a test file whose process never exits (a handle left open) cannot either.
  { cwd: root, stdio: 'inherit', timeout: SUITE_TIMEOUT, killSignal: 'SIGKILL' },
);
if (result.error?.code === 'ETIMEDOUT') {
  console.error(
    `\nThe ${suite} suite did not end within ${SUITE_TIMEOUT / 60_000} minutes and was killed.`,
  );
}

const report = readFileSync(tap, 'utf8');
const count = (label) => Number(report.match(new RegExp(`^# ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
const passed = count('pass');
const failed = count('fail') + count('cancelled');
const skipped = count('skipped') + count('todo');
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(result.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
