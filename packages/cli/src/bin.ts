#!/usr/bin/env node
import { run } from './program';

// A reader that stops early (`keyward scan | head`) closes the pipe: stop writing, as Unix tools do. Unhandled, the
// EPIPE ended the process with a stack trace and exit status 1, which means "credentials found".
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') return;
  process.stderr.write('keyward: cannot write the output\n');
  process.exit(2);
});

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.stderr.write('keyward: unexpected failure\n');
    process.exitCode = 2;
  },
);
