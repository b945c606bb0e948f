import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseDuration, shownKeyId, type ImportKeyInput, type KeyInfo, type KeyPolicyOptions, type Keyward, type KeywardEvent } from '@keyward/core';
import { CliError, readAll, type CliIO } from '../io';
import { openStore, type StoreFlags } from '../store';
import { json, keyDetails, keyTable, printable, stateOf, table, when } from '../output';

/** Global options every `keys` command sees. */
export interface KeysGlobals extends StoreFlags {
  keyPrefix?: string;
}

/** The flags of `keys import` that describe one key (by commander's name for each): with `--file`, each line gives its own. */
const PER_KEY_FLAGS: Readonly<Record<string, string>> = { scope: '--scope', name: '--name', plan: '--plan', hint: '--hint', createdAt: '--created-at', expiresIn: '--expires-in' };
const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * A duration flag: `24h`, `90d`, or a bare number of milliseconds (`0`), checked here so a bad one is named by its flag
 * (`--grace`), not by the library option it feeds (`"gracePeriod"`, `"keyPolicy.expiringLead"`).
 */
function duration(value: string, flag: string): string | number {
  const v = /^\d+$/.test(value.trim()) ? Number(value) : value;
  try {
    parseDuration(v, flag);
  } catch {
    throw new CliError(`${flag} must be a duration such as 30s, 15m, 24h or 90d (or a number of milliseconds), at most 100 years`);
  }
  return v;
}

function parseDate(value: string, flag: string): number {
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) throw new CliError(`${flag} must be a date such as 2026-03-01T10:00:00Z`);
  return t;
}

function parseJsonObject(value: string, flag: string): Record<string, unknown> {
  try {
    const v = JSON.parse(value) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError(`${flag} must be a JSON object`);
}

/** Opens the store, runs `fn` with a keyward instance on it, and closes everything. */
async function withKeyward<T>(cmd: Command, io: CliIO, policy: KeyPolicyOptions | undefined, fn: (kw: Keyward) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals<KeysGlobals>();
  const opened = await openStore(g, io.env);
  const { createKeyward } = require('@keyward/core') as typeof import('@keyward/core');
  let kw: Keyward | undefined;
  try {
    const prefix = g.keyPrefix ?? (io.env['KEYWARD_PREFIX'] || undefined);
    kw = createKeyward({
      store: opened.store,
      ...(opened.invalidation ? { invalidation: opened.invalidation } : {}),
      ...(prefix ? { prefix } : {}),
      environment: io.env,
      cache: false,
      trackLastUsed: false,
      ...(policy ? { keyPolicy: policy } : {}),
    });
    // The change is stored, but instances that cached the key keep it until their cache TTL: say so, once.
    let untold = false;
    kw.on('store.error', (event) => {
      if (event.reason !== 'INVALIDATION_PUBLISH_FAILED' || untold) return;
      untold = true;
      const why = typeof event.data?.['message'] === 'string' ? `: ${event.data['message']}` : '';
      io.stderr.write(`keyward: warning: the change is stored, but running instances could not be told over Redis${why}; those that cached the key keep it until their cache TTL (cache.ttl)\n`);
    });
    return await fn(kw);
  } finally {
    await kw?.close();
    await opened.close();
  }
}

async function allKeys(kw: Keyward, owner: string | undefined): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await kw.keys.list({ limit: 1000, ...(owner !== undefined ? { owner } : {}), ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

function shownOnce(key: string, record: KeyInfo, verb: string): string {
  return `${verb} key ${record.id} (${record.hint}) for ${printable(record.owner)}.\nThe key is shown once; store it now:\n\n  ${key}\n\n`;
}

/** `keyward keys …`: create, list, show, rotate, revoke, revoke-owner, revoke-before, due, import, sweep. */
export function keysCommand(io: CliIO): Command {
  const keys = new Command('keys').description('create, list, rotate and revoke API keys in the configured store');
  const out = (s: string) => void io.stdout.write(s);
  const now = () => Date.now();

  keys
    .command('create')
    .description('create a key and print it (once)')
    .requiredOption('--owner <owner>', 'who the key belongs to')
    .option('--name <name>', 'a human name')
    .option('--scope <scope>', 'a scope to grant (repeat for several)', collect)
    .option('--plan <plan>', 'plan tier')
    .option('--expires-in <duration>', 'lifetime, e.g. 90d')
    .option('--expires-at <date>', 'absolute expiry (ISO 8601)')
    .option('--env <label>', 'environment label in the key (live, test, …)')
    .option('--metadata <json>', 'JSON object of metadata')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      if (o.expiresIn !== undefined && o.expiresAt !== undefined) throw new CliError('give --expires-in or --expires-at, not both');
      const expiresIn = o.expiresIn !== undefined ? duration(o.expiresIn, '--expires-in') : undefined;
      const created = await withKeyward(cmd, io, undefined, (kw) =>
        kw.keys.create({
          owner: o.owner,
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.scope ? { scopes: o.scope } : {}),
          ...(o.plan !== undefined ? { plan: o.plan } : {}),
          ...(expiresIn !== undefined ? { expiresIn } : {}),
          ...(o.expiresAt !== undefined ? { expiresAt: parseDate(o.expiresAt, '--expires-at') } : {}),
          ...(o.env !== undefined ? { env: o.env } : {}),
          ...(o.metadata !== undefined ? { metadata: parseJsonObject(o.metadata, '--metadata') } : {}),
        }),
      );
      out(o.json ? json(created) : shownOnce(created.key, created.record, 'Created'));
    });

  keys
    .command('list')
    .description('list keys as a table')
    .option('--owner <owner>', 'only keys of this owner')
    .addOption(new Option('--state <state>', 'only keys in this state').choices(['active', 'grace', 'expired', 'disabled', 'revoked']))
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      const list = await withKeyward(cmd, io, undefined, (kw) => allKeys(kw, o.owner));
      const t = now();
      const shown = o.state ? list.filter((k) => stateOf(k, t) === o.state) : list;
      out(o.json ? json(shown) : shown.length ? keyTable(shown, t) : 'No keys.\n');
    });

  keys
    .command('show')
    .description('show one key')
    .argument('<id>', 'key id')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      const k = await withKeyward(cmd, io, undefined, (kw) => kw.keys.get(id));
      if (!k) throw new CliError(`no key with id ${shownKeyId(id)}`);
      out(o.json ? json(k) : keyDetails(k, now()));
    });

  keys
    .command('rotate')
    .description('replace a key; the old one keeps working for the grace period')
    .argument('<id>', 'key id')
    .option('--grace <duration>', 'how long the old key keeps working (0 revokes it at once)', '24h')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      const gracePeriod = duration(o.grace, '--grace');
      const r = await withKeyward(cmd, io, undefined, (kw) => kw.keys.rotate(id, { gracePeriod }));
      if (o.json) return out(json(r));
      const old = r.previous.status === 'revoked' ? `The old key ${r.previous.id} is revoked.` : `The old key ${r.previous.id} works until ${when(r.previous.graceEndsAt)}.`;
      out(shownOnce(r.key, r.record, 'Rotated: new') + old + '\n');
    });

  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<id>', 'key id')
    .option('--reason <text>', 'why (kept with the key and in the event)')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      const k = await withKeyward(cmd, io, undefined, (kw) => kw.keys.revoke(id, o.reason !== undefined ? { reason: o.reason } : {}));
      out(o.json ? json(k) : `Revoked key ${k.id} (${k.hint}) of ${printable(k.owner)}.\n`);
    });

  keys
    .command('revoke-owner')
    .description('revoke every key of an owner (incident response)')
    .argument('<owner>', 'the owner')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (owner: string, o, cmd: Command) => {
      const r = await withKeyward(cmd, io, undefined, (kw) => kw.keys.revokeOwner(owner, o.reason !== undefined ? { reason: o.reason } : {}));
      out(o.json ? json(r) : `Revoked ${r.ids.length} key(s) of ${printable(owner)}.\n${r.ids.map((i) => `  ${i}\n`).join('')}`);
    });

  keys
    .command('revoke-before')
    .description('revoke every key created before a date (incident response)')
    .argument('<date>', 'ISO 8601 date, e.g. 2026-03-01T10:00:00Z')
    .option('--owner <owner>', 'only keys of this owner')
    .option('--reason <text>', 'why')
    .option('--json', 'print JSON')
    .action(async (date: string, o, cmd: Command) => {
      const before = parseDate(date, '<date>');
      const r = await withKeyward(cmd, io, undefined, (kw) => kw.keys.revokeCreatedBefore(before, { ...(o.reason !== undefined ? { reason: o.reason } : {}), ...(o.owner !== undefined ? { owner: o.owner } : {}) }));
      out(o.json ? json(r) : `Revoked ${r.ids.length} key(s) created before ${when(before)}.\n${r.ids.map((i) => `  ${i}\n`).join('')}`);
    });

  keys
    .command('due')
    .description('list keys due for rotation: past or near the maximum age, expiring soon, legacy, or found under a previous pepper')
    .option('--max-age <duration>', 'maximum key age, e.g. 90d')
    .option('--lead <duration>', 'also list keys this close to being due', '7d')
    .option('--owner <owner>', 'only keys of this owner')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      const query = { lead: duration(o.lead, '--lead'), ...(o.maxAge !== undefined ? { maxAge: duration(o.maxAge, '--max-age') } : {}), ...(o.owner !== undefined ? { owner: o.owner } : {}) };
      const due = await withKeyward(cmd, io, undefined, (kw) => kw.keys.dueForRotation(query));
      if (o.json) return out(json(due));
      out(due.length ? table(['ID', 'OWNER', 'HINT', 'REASON', 'DUE'], due.map((d) => [d.key.id, d.key.owner, d.key.hint, d.reason, d.reason === 'legacy' || d.reason === 'previous-pepper' ? 'now' : when(d.dueAt)])) : 'No keys are due for rotation.\n');
    });

  keys
    .command('import')
    .description('import existing keys (plaintext or SHA-256) so clients keep working; others than keyward keys are flagged legacy')
    .option('--owner <owner>', 'who the key belongs to')
    .option('--key-stdin', 'read the plaintext key from stdin (keeps it out of shell history)')
    .option('--sha256 <hex>', "the key's SHA-256 (hex)")
    .option('--file <path>', 'bulk import: JSON lines of {key|sha256, owner, scopes, name, plan, createdAt, expiresAt, metadata}')
    .option('--scope <scope>', 'a scope to grant (repeat for several)', collect)
    .option('--name <name>', 'a human name')
    .option('--plan <plan>', 'plan tier')
    .option('--hint <hint>', 'display hint for a key given by hash')
    .option('--created-at <date>', 'when the key was first issued (counts for the maximum age)')
    .option('--expires-in <duration>', 'lifetime from now, e.g. 30d')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      const inputs: ImportKeyInput[] = [];
      const lines: number[] = []; // the line of each entry of --file (blank lines hold none), for messages
      if (o.file !== undefined) {
        if (o.keyStdin || o.sha256 !== undefined) throw new CliError('--file cannot be combined with --key-stdin or --sha256');
        // Each line carries its own fields (only --owner fills in a line without one): a flag given beside --file
        // would otherwise be dropped without a word, and every key imported without the scopes or expiry it names.
        const perKey = Object.entries(PER_KEY_FLAGS).find(([field]) => o[field] !== undefined)?.[1];
        if (perKey !== undefined) throw new CliError(`--file cannot be combined with ${perKey}: give it on each line of the file`);
        let text: string;
        try {
          text = readFileSync(o.file, 'utf8');
        } catch {
          throw new CliError(`cannot read ${o.file}`);
        }
        // A byte order mark, as editors on Windows save UTF-8, is not part of the first line's JSON.
        text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
          if (!line.trim()) return;
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch {
            throw new CliError(`${o.file}:${i + 1}: not a JSON object`);
          }
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`${o.file}:${i + 1}: not a JSON object`);
          const rec = v as ImportKeyInput & { expiresAt?: string | number; createdAt?: string | number };
          lines.push(i + 1);
          inputs.push({
            ...rec,
            ...(o.owner !== undefined && rec.owner === undefined ? { owner: o.owner } : {}),
            ...(typeof rec.createdAt === 'string' ? { createdAt: parseDate(rec.createdAt, `${o.file}:${i + 1} createdAt`) } : {}),
            ...(typeof rec.expiresAt === 'string' ? { expiresAt: parseDate(rec.expiresAt, `${o.file}:${i + 1} expiresAt`) } : {}),
          });
        });
      } else {
        if (o.owner === undefined) throw new CliError("required option '--owner <owner>' not specified");
        if (Boolean(o.keyStdin) === (o.sha256 !== undefined)) throw new CliError('give exactly one of --key-stdin, --sha256 and --file');
        const key = o.keyStdin ? (await readAll(io.stdin)).split(/\r?\n/)[0]!.trim() : undefined;
        inputs.push({
          owner: o.owner,
          ...(key !== undefined ? { key } : { sha256: o.sha256 }),
          ...(o.scope ? { scopes: o.scope } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(o.plan !== undefined ? { plan: o.plan } : {}),
          ...(o.hint !== undefined ? { hint: o.hint } : {}),
          ...(o.createdAt !== undefined ? { createdAt: parseDate(o.createdAt, '--created-at') } : {}),
          ...(o.expiresIn !== undefined ? { expiresIn: duration(o.expiresIn, '--expires-in') } : {}),
        });
      }
      const imported = await withKeyward(cmd, io, undefined, async (kw) => {
        const done: KeyInfo[] = [];
        for (const [i, input] of inputs.entries()) {
          try {
            done.push(await kw.keys.import(input));
          } catch (error) {
            const where = o.file !== undefined ? `${o.file}:${lines[i]!}` : 'the key';
            throw new CliError(`${where}: ${error instanceof Error ? error.message.replace(/^keyward: /, '') : 'failed'}${done.length ? ` (${done.length} imported before it)` : ''}`);
          }
        }
        return done;
      });
      if (o.json) return out(json(imported));
      const legacy = imported.filter((k) => k.legacy).length;
      out(`Imported ${imported.length} key(s)${legacy ? `, ${legacy} legacy (they authenticate only with the legacyKeys option and are due for rotation)` : ''}.\n${imported.map((k) => `  ${k.id}  ${printable(k.owner)}  ${k.hint}\n`).join('')}`);
    });

  keys
    .command('sweep')
    .description('report expiring, expired and idle keys as events, and retire rotated keys past their grace period (run from cron)')
    .option('--max-age <duration>', 'maximum key age')
    .option('--expiring-lead <duration>', 'warn this long before expiry', '7d')
    .option('--idle-after <duration>', 'report keys unused for this long')
    .option('--auto-expire', 'expire keys at the maximum age')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      if (o.autoExpire && o.maxAge === undefined) throw new CliError('--auto-expire needs --max-age');
      const policy: KeyPolicyOptions = { expiringLead: duration(o.expiringLead, '--expiring-lead'), ...(o.maxAge !== undefined ? { maxAge: duration(o.maxAge, '--max-age') } : {}), ...(o.idleAfter !== undefined ? { idleAfter: duration(o.idleAfter, '--idle-after') } : {}), ...(o.autoExpire ? { autoExpire: true } : {}) };
      const events: KeywardEvent[] = [];
      const report = await withKeyward(cmd, io, policy, async (kw) => {
        kw.on('*', (e) => void (e.type.startsWith('key.') && e.type !== 'key.updated' && events.push(e)));
        const r = await kw.keys.sweep();
        await new Promise((resolve) => setImmediate(resolve));
        await kw.flushEvents();
        return r;
      });
      if (o.json) return out(json({ report, events }));
      for (const e of events) out(`${e.type}  ${e.keyId}  ${printable(e.owner ?? '')}  ${printable(e.reason ?? '')}${e.data ? `  ${printable(JSON.stringify(e.data))}` : ''}\n`.replace(/ {2}\n$/, '\n'));
      out(`Swept ${report.scanned} key(s): ${report.expiring.length} expiring, ${report.expired.length} expired, ${report.idle.length} idle, ${report.revoked.length} retired after rotation.\n`);
    });

  return keys;
}
