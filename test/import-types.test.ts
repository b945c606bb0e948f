/**
 * The type half of the import matrix: a consumer project imports every package's BUILT declarations (`dist/*.d.ts`,
 * through the workspace links in node_modules, as a user's compiler finds them) under each common module setting,
 * with `skipLibCheck` off, so a declaration a user's compiler refuses — a type import of the ESM-only jose from a
 * CommonJS declaration, say — fails here. Errors inside third-party declarations are not ours and are left out.
 * `npm test` builds before Jest runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..');
const PACKAGES = ['core', 'express', 'koa', 'nest', 'redis', 'postgres', 'geo', 'monitoring'];
const CONSUMER = `import { createKeyward, type Keyward, type PublicJwks, type KeywardEvent } from '@keyward/core';
import { apiKeyAuth, requireScopes } from '@keyward/express';
import { apiKeyAuth as koaAuth } from '@keyward/koa';
import { KeywardModule, KeywardGuard } from '@keyward/nest';
import { RedisKeyStore } from '@keyward/redis';
import { PostgresKeyStore } from '@keyward/postgres';
import { geoipCountryLookup } from '@keyward/geo';
import { webhookSink, createPrometheusExporter } from '@keyward/monitoring';
const kw: Keyward = createKeyward();
const jwks: PublicJwks = kw.tokens.jwks();
kw.on('auth.failed', (e: KeywardEvent) => void e.reason);
export { jwks, apiKeyAuth, requireScopes, koaAuth, KeywardModule, KeywardGuard, RedisKeyStore, PostgresKeyStore, geoipCountryLookup, webhookSink, createPrometheusExporter };
`;

/** The errors in keyward's own declarations (and the consumer) when `files` are compiled with `options`. */
function errors(files: Record<string, string>, options: ts.CompilerOptions): string[] {
  const paths = new Map(Object.entries(files).map(([name, text]) => [join(ROOT, 'node_modules', '.cache', 'keyward-import-types', name), text]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => paths.has(f) || fileExists.call(host, f);
  host.readFile = (f) => paths.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, v, ...rest) => (paths.has(f) ? ts.createSourceFile(f, paths.get(f)!, v) : getSourceFile.call(host, f, v, ...rest));
  const program = ts.createProgram([...paths.keys()], options, host);
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => !d.file || paths.has(d.file.fileName) || d.file.fileName.startsWith(join(ROOT, 'packages')))
    .map((d) => `${d.file ? d.file.fileName.slice(ROOT.length + 1) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

const BASE: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: false, target: ts.ScriptTarget.ES2022, types: ['node'], esModuleInterop: true, experimentalDecorators: true };

describe('import matrix: the built declarations', () => {
  beforeAll(() => {
    const missing = PACKAGES.filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.d.ts')));
    if (missing.length > 0) throw new Error(`dist of ${missing.join(', ')} missing. Build first: \`npm run build\` (\`npm test\` builds before running Jest).`);
  });

  it('compile for a CommonJS and an ESM consumer under node16 resolution', () => {
    expect(errors({ 'consumer.cts': CONSUMER, 'consumer.mts': CONSUMER }, { ...BASE, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 })).toEqual([]);
  });

  it('compile for a classic CommonJS consumer (node10 resolution, as Nest projects start)', () => {
    expect(errors({ 'consumer.ts': CONSUMER }, { ...BASE, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 })).toEqual([]);
  });

  it('compile for a bundler consumer', () => {
    expect(errors({ 'consumer.ts': CONSUMER }, { ...BASE, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler })).toEqual([]);
  });
});
