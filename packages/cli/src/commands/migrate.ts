import { Command } from 'commander';
import { CliError, type CliIO } from '../io';
import { json } from '../output';
import { connectPostgres, schemaOf, type StoreFlags } from '../store';

/** `keyward migrate`: creates or upgrades keyward's PostgreSQL tables. */
export function migrateCommand(io: CliIO): Command {
  return new Command('migrate')
    .description("create or upgrade keyward's tables in PostgreSQL (safe to run again)")
    .option('--json', 'print JSON: { schema, applied }')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<StoreFlags>();
      const url = g.database ?? (io.env['DATABASE_URL'] || undefined);
      if (!url) throw new CliError('migrate needs --database URL or DATABASE_URL');
      const pool = await connectPostgres(url);
      try {
        const { migrate } = require('@keyward/postgres') as typeof import('@keyward/postgres');
        const schema = schemaOf(g, io.env);
        const applied = await migrate(pool, schema ? { schema } : {});
        if (o.json) io.stdout.write(json({ schema: schema ?? 'public', applied }));
        else io.stdout.write(applied.length ? `Applied migration(s) ${applied.join(', ')} to schema ${schema ?? 'public'}.\n` : `Schema ${schema ?? 'public'} is up to date.\n`);
      } finally {
        await pool.end();
      }
    });
}
