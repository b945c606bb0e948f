/**
 * Every `ts` and `js` code block of the READMEs is type-checked against the packages' sources, so a renamed option, a
 * wrong argument or a type a user cannot satisfy (an ioredis client refused by an option's type, say) fails here
 * instead of in a reader's editor. Blocks are excerpts: `require` lines become imports, the body is checked inside an
 * async function (so top-level `await` is fine), and names a block uses without declaring (`app`, `kw`, a Redis
 * client…) come from {@link CONTEXT}. `js` blocks are checked without strict null checks, as plain JavaScript is
 * written. A block preceded by `<!-- not type-checked: <why> -->` (a signature overview, say) is skipped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const SKIP = /<!-- not type-checked: [^>]+ -->\s*$/;

/** What a block may use without declaring it, by name. `app` is an Express app except in the Koa README. */
const CONTEXT: Record<string, string> = {
  kw: '__core.Keyward',
  options: '__core.KeywardOptions',
  createKeyward: 'typeof __core.createKeyward',
  endpoint: 'typeof __express.endpoint',
  apiKeyAuth: 'typeof __express.apiKeyAuth',
  app: '__Express',
  handler: '__RequestHandler',
  express: 'typeof __expressFn',
  Redis: 'typeof __IORedis',
  client: '__IORedis',
  ioredisClient: '__IORedis',
  pool: '__Pool',
  boundedRedisOptions: 'typeof __redis.boundedRedisOptions',
  whenReady: 'typeof __redis.whenReady',
  RedisKeyStore: 'typeof __redis.RedisKeyStore',
  RedisInvalidationChannel: 'typeof __redis.RedisInvalidationChannel',
  attachAuditStream: 'typeof __redis.attachAuditStream',
  PostgresKeyStore: 'typeof __postgres.PostgresKeyStore',
  KeywardModule: 'typeof __nest.KeywardModule',
  AppModule: 'new () => object',
  secret: 'string',
  source: 'string',
  key: 'Buffer',
  cert: 'Buffer',
};
const KOA_CONTEXT: Record<string, string> = {
  app: '__Koa',
  router: '__Router',
  apiKeyAuth: 'typeof __koa.apiKeyAuth',
  listUsers: '__Koa.Middleware',
  createReport: '(ctx: __Koa.Context) => unknown',
};
const TYPE_IMPORTS = [
  "import type * as __core from '@keyward/core';",
  "import type * as __express from '@keyward/express';",
  "import type * as __koa from '@keyward/koa';",
  "import type * as __redis from '@keyward/redis';",
  "import type * as __postgres from '@keyward/postgres';",
  "import type * as __nest from '@keyward/nest';",
  "import type __expressFn from 'express';",
  "import type { Express as __Express, RequestHandler as __RequestHandler } from 'express';",
  "import type __Koa from 'koa';",
  "import type { Router as __Router } from '@koa/router';",
  "import type __IORedis from 'ioredis';",
  "import type { Pool as __Pool } from 'pg';",
];

interface Snippet {
  readonly readme: string;
  readonly line: number;
  readonly lang: 'ts' | 'js';
  readonly file: string;
  readonly text: string;
  /** The README line of each line of `text` (0 for lines added here). */
  readonly lines: number[];
}

function readmes(): string[] {
  const packages = readdirSync(join(ROOT, 'packages')).map((p) => `packages/${p}/README.md`);
  return ['README.md', ...packages.filter((f) => existsSync(join(ROOT, f)))];
}

/** The blocks of one README, each as a module to check. */
function snippetsOf(readme: string): Snippet[] {
  const source = readFileSync(join(ROOT, readme), 'utf8');
  const out: Snippet[] = [];
  const fence = /^```(ts|js)\n([\s\S]*?)^```/gm;
  for (let m = fence.exec(source); m; m = fence.exec(source)) {
    if (SKIP.test(source.slice(0, m.index))) continue;
    const first = source.slice(0, m.index).split('\n').length + 1; // the README line of the block's first line
    const imports: Array<[string, number]> = [];
    const body: Array<[string, number]> = [];
    m[2]!.split('\n').forEach((l, i) => {
      const at = first + i;
      const req = /^const (\{[^}]*\}|\w+) = require\('([^']+)'\);?\s*(\/\/.*)?$/.exec(l);
      if (/^import /.test(l)) imports.push([l, at]);
      else if (req) imports.push([`import ${req[1]} from '${req[2]}';`, at]);
      else body.push([l, at]);
    });
    const code = body.map(([l]) => l).join('\n');
    const declared = new Set<string>();
    for (const [l] of imports) for (const n of l.replace(/^import (type )?/, '').split(/ from /)[0]!.replace(/[{}*]/g, ' ').split(/[\s,]+/)) if (n && n !== 'as' && n !== 'type') declared.add(n);
    const topLevel = /^(export |@)/m.test(code); // decorated classes and exports stay at the top level
    if (topLevel) for (const d of code.matchAll(/^(?:export )?(?:class|const|function) (\w+)/gm)) declared.add(d[1]!);
    const context = { ...CONTEXT, ...(readme === 'packages/koa/README.md' ? KOA_CONTEXT : {}) };
    const lines: Array<[string, number]> = [
      ...TYPE_IMPORTS.map((l): [string, number] => [l, 0]),
      ...imports,
      ...Object.entries(context).filter(([n]) => !declared.has(n)).map(([n, t]): [string, number] => [`declare const ${n}: ${t};`, 0]),
      ...(topLevel ? body : [['export async function snippet(): Promise<void> {', 0] as [string, number], ...body, ['}', 0] as [string, number]]),
      ['export {};', 0],
    ];
    const name = `${readme.replace(/\//g, '__').replace(/\.md$/, '')}__${first}.${m[1] === 'js' ? 'js-block' : 'ts-block'}.ts`;
    out.push({ readme, line: first, lang: m[1] as 'ts' | 'js', file: join(ROOT, 'test', 'docs', '.snippets', name), text: lines.map(([l]) => l).join('\n'), lines: lines.map(([, n]) => n) });
  }
  return out;
}

/** The diagnostics of `snippets`, each as "README:line: message". */
function check(snippets: readonly Snippet[], strictNullChecks: boolean): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.check.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options: ts.CompilerOptions = { ...config.options, strictNullChecks, noEmit: true, types: ['node'] };
  const byFile = new Map(snippets.map((s) => [s.file, s]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => byFile.has(f) || fileExists.call(host, f);
  host.readFile = (f) => byFile.get(f)?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, v, ...rest) => {
    const s = byFile.get(f);
    return s ? ts.createSourceFile(f, s.text, v) : getSourceFile.call(host, f, v, ...rest);
  };
  const program = ts.createProgram([...byFile.keys()], options, host);
  const found: string[] = [];
  for (const d of [...program.getSyntacticDiagnostics(), ...program.getSemanticDiagnostics()]) {
    const s = d.file && byFile.get(d.file.fileName);
    if (!s) continue; // the packages themselves are checked by tsc
    const line = d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line;
    found.push(`${s.readme}:${s.lines[line] || s.line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`);
  }
  return found;
}

describe('README code blocks', () => {
  const all = readmes().flatMap(snippetsOf);

  it('finds the blocks of every README', () => {
    expect(all.length).toBeGreaterThan(20);
    expect(new Set(all.map((s) => s.readme)).size).toBeGreaterThan(8);
  });

  it('type-check: ts blocks strictly', () => {
    expect(check(all.filter((s) => s.lang === 'ts'), true)).toEqual([]);
  });

  it('type-check: js blocks as JavaScript is written (no strict null checks)', () => {
    expect(check(all.filter((s) => s.lang === 'js'), false)).toEqual([]);
  });
});
