/**
 * Flags of `keyward keys` checked before any store is opened, and named as typed: a bad duration is reported by its
 * flag (`--grace`), not by the library option it feeds (`"gracePeriod"`, `"keyPolicy.expiringLead"`).
 */
import { runInProcess } from './helpers/in-process';

describe('keyward keys: flags are checked up front and named as typed', () => {
  it.each([
    [['keys', 'rotate', 'key_x', '--grace', 'soon'], '--grace'],
    [['keys', 'due', '--lead', '-1'], '--lead'],
    [['keys', 'due', '--max-age', '1y'], '--max-age'],
    [['keys', 'create', '--owner', 'a', '--expires-in', 'later'], '--expires-in'],
    [['keys', 'sweep', '--expiring-lead', 'soon'], '--expiring-lead'],
    [['keys', 'sweep', '--idle-after', '1000000000d'], '--idle-after'],
    [['keys', 'import', '--owner', 'a', '--sha256', 'a'.repeat(64), '--expires-in', 'x'], '--expires-in'],
  ])('%j: exit 2, one line naming %s', async (args, flag) => {
    const r = await runInProcess(args);
    expect(r).toEqual({ code: 2, out: '', err: `keyward: ${flag} must be a duration such as 30s, 15m, 24h or 90d (or a number of milliseconds), at most 100 years\n` });
  });

  it('names the flags of a combination that cannot work', async () => {
    expect(await runInProcess(['keys', 'sweep', '--auto-expire'])).toEqual({ code: 2, out: '', err: 'keyward: --auto-expire needs --max-age\n' });
    expect(await runInProcess(['keys', 'create', '--owner', 'a', '--expires-in', '1d', '--expires-at', '2030-01-01T00:00:00Z'])).toEqual({ code: 2, out: '', err: 'keyward: give --expires-in or --expires-at, not both\n' });
  });
});
