'use strict';
/**
 * Lets a plain Node process (a child of a test or a bench) load keyward's TypeScript sources without a build:
 * `@keyward/NAME` resolves to packages/NAME/src, and `.ts` files are transpiled on load with TypeScript's
 * transpileModule (no type check). Set KEYWARD_FROM_DIST=1 to load the built packages instead.
 */
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

if (process.env.KEYWARD_FROM_DIST !== '1') {
  const ts = require('typescript');
  const root = path.resolve(__dirname, '..', '..');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, ...rest) {
    const m = /^@keyward\/(core|express|koa|nest|redis|postgres|geo|monitoring)$/.exec(request);
    return resolve.call(this, m ? path.join(root, 'packages', m[1], 'src', 'index.ts') : request, parent, ...rest);
  };
  const options = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    isolatedModules: true,
  };
  require.extensions['.ts'] = function (module, filename) {
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename });
    module._compile(outputText, filename);
  };
}
