// `npm run sample`: runs the sample end to end. Finds Redis (REDIS_URL, else 127.0.0.1:6379,
// else a throw-away redis-server if one is installed), starts the sample worker, runs the
// producer, waits until every task was processed, then stops the worker with SIGTERM.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
// The launcher the tests and the bench use, as the build compiled it.
import {
  connectWhenUp,
  freePort,
  spawnRedis,
  stopProcess,
} from '../.build/test/helpers/redis-process.js';

const EXPECTED = 3; // signups the producer enqueues; each gives a welcome mail and a receipt

function reachable(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function run(label, file, env) {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const relay = (stream) => (chunk) => {
    output += chunk;
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) stream.write(`[${label}] ${line}\n`);
  };
  child.stdout.on('data', relay(process.stdout));
  child.stderr.on('data', relay(process.stderr));
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, exited, output: () => output };
}

async function until(check, timeout, what) {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let redis;
let url = process.env.REDIS_URL;
if (!url) {
  if (await reachable(6379)) {
    url = 'redis://127.0.0.1:6379';
  } else {
    const port = await freePort();
    redis = spawnRedis(port);
    const missing = await new Promise((resolve) => {
      redis.once('error', () => resolve(true));
      redis.once('spawn', () => resolve(false));
    });
    if (missing) {
      console.error(
        'The sample needs Redis: install it (Debian/Ubuntu: sudo apt-get install redis-server, macOS: brew install redis) or set REDIS_URL=redis://host:port, then run npm run sample again.',
      );
      process.exit(1);
    }
    url = `redis://127.0.0.1:${port}`;
    (await connectWhenUp(url, redis)).disconnect();
    console.log(`Started a throw-away redis-server at ${url}`);
  }
}

const env = { REDIS_URL: url };
let exitCode = 0;
const worker = run('worker', '.build/sample/worker.js', env);
try {
  await until(() => worker.output().includes('worker ready'), 20_000, 'the worker');
  const producer = run('producer', '.build/sample/producer.js', env);
  if ((await producer.exited) !== 0) throw new Error('The producer failed');
  const processed = () => (worker.output().match(/processed logReceipt/g) ?? []).length;
  await until(() => processed() >= EXPECTED, 20_000, 'the tasks to be processed');
  console.log(
    `\nSample done: ${EXPECTED} signups enqueued, ${EXPECTED * 2} tasks processed end to end.`,
  );
} catch (error) {
  console.error(`Sample failed: ${error.message}`);
  exitCode = 1;
} finally {
  worker.child.kill('SIGTERM');
  await worker.exited;
  if (redis) await stopProcess(redis);
}
process.exit(exitCode);
