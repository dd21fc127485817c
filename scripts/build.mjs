// Compiles the package (dist/) and, on request, the whole tree with tests, sample and bench
// (.build/). The Lua scripts and the dashboard's page assets are plain files read at run
// time, so they are copied beside the compiled code that reads them in both outputs.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const wantsTree = process.argv.slice(2).some((a) => a.startsWith('--with-'));

/** Folders of lib/ holding files read at run time, and the ending of those files. */
const ASSETS = [
  ['core/scripts', '.lua'],
  ['dashboard/assets', ''],
];

function compile(project, outDir, libDir) {
  rmSync(join(root, outDir), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
  for (const [folder, ending] of ASSETS) {
    const from = join(root, 'lib', folder);
    const to = join(root, outDir, libDir, folder);
    mkdirSync(to, { recursive: true });
    for (const file of readdirSync(from)) {
      if (file.endsWith(ending)) cpSync(join(from, file), join(to, file));
    }
  }
}

compile('tsconfig.build.json', 'dist', '');
// The command-line tool (package.json "bin") runs as a program: tsc keeps its shebang line
// but writes files without the execute bit.
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
if (wantsTree) compile('tsconfig.json', '.build', 'lib');
