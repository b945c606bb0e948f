#!/usr/bin/env node
/**
 * Runs a TypeScript entry point of this monorepo straight from source, for driving the CLI as a subprocess in tests
 * without a prior build: `node test/cli/helpers/run-ts.js packages/cli/src/bin.ts keys list`.
 * `@keyward/*` and `keyward` resolve to `packages/NAME/src`; each file is transpiled once (typescript's
 * transpileModule) and cached on disk by content hash, so later runs do not even load the compiler.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const Module = require('node:module');

const root = path.resolve(__dirname, '..', '..', '..');
const cacheDir = path.join(os.tmpdir(), 'keyward-run-ts-cache');
fs.mkdirSync(cacheDir, { recursive: true });

const PACKAGES = { '@keyward/core': 'core', '@keyward/redis': 'redis', '@keyward/postgres': 'postgres', '@keyward/express': 'express', '@keyward/koa': 'koa', '@keyward/nest': 'nest', '@keyward/geo': 'geo', '@keyward/monitoring': 'monitoring', keyward: 'cli' };
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const pkg = PACKAGES[request];
  if (pkg) return path.join(root, 'packages', pkg, 'src', 'index.ts');
  return originalResolve.call(this, request, parent, ...rest);
};

let ts;
Module._extensions['.ts'] = function (module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const hash = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${hash}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    ts ??= require('typescript');
    code = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true, isolatedModules: true },
    }).outputText;
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached);
  }
  module._compile(code, filename);
};

const [entry, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], path.resolve(root, entry), ...args];
require(path.resolve(root, entry));
