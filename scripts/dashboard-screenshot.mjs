// Builds the tree and writes the README's pictures of the dashboard (docs/dashboard*.png,
// 1280x800) with a real app, worker and headless Chromium (CHROMIUM_PATH, default
// /usr/bin/chromium). Takes about 40 s.
//   node scripts/dashboard-screenshot.mjs
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--with-tests'], {
  cwd: root,
  stdio: 'inherit',
});
execFileSync(process.execPath, [join(root, '.build', 'test', 'dashboard', 'screenshot.js')], {
  cwd: root,
  stdio: 'inherit',
});
