// Compiles the package (dist/) and, on request, the whole tree with tests, sample and bench
// (.build/). The Lua scripts are plain files read at run time, so they are copied beside the
// compiled loader in both outputs.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const wantsTree = process.argv.slice(2).some((a) => a.startsWith('--with-'));

function compile(project, outDir, luaDir) {
  rmSync(join(root, outDir), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
  const from = join(root, 'lib', 'core', 'scripts');
  const to = join(root, outDir, luaDir);
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from)) {
    if (file.endsWith('.lua')) cpSync(join(from, file), join(to, file));
  }
}

compile('tsconfig.build.json', 'dist', 'core/scripts');
// The command-line tool (package.json "bin") runs as a program: tsc keeps its shebang line
// but writes files without the execute bit.
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
if (wantsTree) compile('tsconfig.json', '.build', 'lib/core/scripts');
