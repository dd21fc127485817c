#!/usr/bin/env node
// The `nestjs-delayed` command (package.json "bin"): see `nestjs-delayed --help`.
import { runCli } from './run.js';

// A reader that goes away early (`... | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => void process.stdout.write(`${text}\n`),
    stderr: (text) => void process.stderr.write(`${text}\n`),
  },
  process.env,
);
process.exitCode = code;
// The connection is closed by now and the process ends on its own; should anything still
// hold the event loop (a socket that does not close), an operator's shell must not wait.
setTimeout(() => process.exit(code), 1_000).unref();
