// The npm registry this project's machines reach has no macOS/Windows builds of
// @msgpackr-extract/* (bullmq's optional native addon, a dev dependency of the benchmark),
// so `npm install` leaves them out of package-lock.json and `npm ci` then rejects the lock as
// incomplete. This records them as what they are: optional packages for other platforms,
// which npm skips here without fetching. Run it after regenerating the lock file.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const extract = lock.packages['node_modules/msgpackr-extract'];
let added = 0;
for (const [name, version] of Object.entries(extract?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [, os, cpu] = name.match(/msgpackr-extract-(darwin|linux|win32)-(.+)$/) ?? [];
  if (!os) continue;
  lock.packages[key] = { version, cpu: [cpu], dev: true, license: 'MIT', optional: true, os: [os] };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
  ),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform package(s) recorded`);
