/**
 * The import matrix: real `node` processes load the BUILT packages (`packages/NAME/dist`, resolved through the
 * workspace links in node_modules, exactly as a consumer would) from CommonJS (`require`) and from ESM (`import`
 * in a `.mjs`), and check the named exports exist and the core works. `npm test` builds before Jest runs; when a
 * dist is missing the test fails and says so.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

const EXPORTS: Record<string, readonly string[]> = {
  '@keyward/core': ['createKeyward', 'isKeyward', 'KeywardError', 'compileScopes', 'toAuthRequest', 'onResponseDone', 'serveEndpoint', 'resolveMount', 'manualClock', 'MemoryKeyStore'],
  '@keyward/express': ['apiKeyAuth', 'requireScopes', 'endpoint', 'createKeyward'],
  '@keyward/koa': ['apiKeyAuth', 'requireScopes', 'endpoint', 'createKeyward'],
  '@keyward/nest': ['KeywardModule', 'KeywardGuard', 'KeywardException', 'KeywardExceptionFilter', 'Scopes', 'Public', 'Cost', 'Auth', 'KEYWARD', 'InjectKeyward', 'endpoint'],
};

/** Proves the built core works, not only that it loads: a key is created and accepted. */
const SMOKE = `const kw = createKeyward(); const { key } = await kw.keys.create({ owner: 'o' });
const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } }); await kw.close();
if (!d.ok) throw new Error('the built core refused its own key');`;

function requireBuilt(): void {
  const missing = Object.keys(EXPORTS).map((name) => `packages/${name.split('/')[1]}/dist/index.js`).filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length > 0) throw new Error(`import matrix: ${missing.join(', ')} missing. Build first: \`npm run build\` (\`npm test\` builds before running Jest).`);
}

async function node(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd, timeout: 20_000 });
    return stdout.trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`node ${args[0]} failed:\n${err.stderr || err.message}`);
  }
}

describe('import matrix (built packages)', () => {
  let dir: string;
  beforeAll(() => {
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'keyward-import-matrix-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.entries(EXPORTS))('CommonJS: require(%s) has its named exports', async (name, names) => {
    requireBuilt();
    const file = join(dir, `${name.split('/')[1]}.cjs`);
    writeFileSync(file, `'use strict';
const m = require(${JSON.stringify(name)});
const missing = ${JSON.stringify(names)}.filter((n) => m[n] === undefined);
if (missing.length) throw new Error('missing exports: ' + missing.join(', '));
(async () => { const { createKeyward } = require('@keyward/core'); ${SMOKE} console.log('ok'); })().catch((e) => { console.error(e); process.exit(1); });
`);
    expect(await node([file], dir)).toBe('ok');
  });

  it.each(Object.entries(EXPORTS))('ESM: import { … } from %s in a .mjs', async (name, names) => {
    requireBuilt();
    const file = join(dir, `${name.split('/')[1]}.mjs`);
    // a missing named export fails at link time with a SyntaxError naming it
    writeFileSync(file, `import { ${names.map((n) => `${n} as x_${n}`).join(', ')} } from ${JSON.stringify(name)};
import { createKeyward } from '@keyward/core';
const missing = Object.entries({ ${names.map((n) => `${n}: x_${n}`).join(', ')} }).filter(([, v]) => v === undefined).map(([n]) => n);
if (missing.length) throw new Error('undefined exports: ' + missing.join(', '));
${SMOKE}
console.log('ok');
`);
    expect(await node([file], dir)).toBe('ok');
  });
});
