#!/usr/bin/env node
import { run } from './program';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.stderr.write('keyward: unexpected failure\n');
    process.exitCode = 2;
  },
);
