import { ENVIRONMENT_NAMES, misspeltEnvironment } from './environment';
import { parseOptions } from './config';
import { resetWarnings } from '../util/warn';

describe('misspelt KEYWARD_* environment variables', () => {
  afterEach(() => resetWarnings());

  it('finds a name near one keyward reads, with the name it was likely meant to be', () => {
    expect(misspeltEnvironment({ KEYWARD_PEPER: 'x', KEYWARD_ENCRYPTION_KEY: 'x', keyward_pepper_file: 'x', KEYWARD_SIGNING_KEYS: 'x' })).toEqual([
      { name: 'KEYWARD_PEPER', meant: 'KEYWARD_PEPPER' },
      { name: 'KEYWARD_ENCRYPTION_KEY', meant: 'KEYWARD_ENCRYPTION_KEYS' },
      { name: 'keyward_pepper_file', meant: 'KEYWARD_PEPPER_FILE' },
      { name: 'KEYWARD_SIGNING_KEYS', meant: 'KEYWARD_SIGNING_KEY' },
    ]);
  });

  it('leaves alone the names keyward reads, an application\'s own KEYWARD_* names, other variables and names chosen by options', () => {
    const env = Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, 'x']));
    expect(misspeltEnvironment({ ...env, KEYWARD_WEBHOOK_SECRET: 'x', KEYWARD_MODE: 'x', KEYWARD_PORT: 'x', PEPER: 'x', HOME: '/root' })).toEqual([]);
    const tokens = { issuers: [{ issuer: 'a', secretEnv: 'KEYWARD_SIGNING_KEY2' }], signing: { issuer: 'b', keys: [{ privateKeyEnv: 'KEYWARD_SIGNING_KEYS' }] } };
    expect(misspeltEnvironment({ KEYWARD_SIGNING_KEY2: 'x', KEYWARD_SIGNING_KEY2_FILE: 'x', KEYWARD_SIGNING_KEYS: 'x' }, tokens)).toEqual([]);
    expect(misspeltEnvironment({ KEYWARD_PEPER: 'x' }, { issuers: 'not a list', signing: null })).toHaveLength(1);
  });

  it('warns once at start-up, naming the variables but never a value', () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const secret = 'p'.repeat(40);
      const keyLikeName = `KEYWARD_PEPPER${'A'.repeat(30)}`;
      parseOptions({ environment: { KEYWARD_PEPER: secret, KEYWARD_PEPPER: secret } });
      parseOptions({ environment: { KEYWARD_PEPER: secret } });
      expect(spy).toHaveBeenCalledTimes(1);
      const [message, options] = spy.mock.calls[0] as [string, { code: string }];
      expect(options.code).toBe('KEYWARD_ENV_MISSPELT');
      expect(message).toBe('keyward: the environment has "KEYWARD_PEPER" (did you mean "KEYWARD_PEPPER"?), which keyward does not read; a setting under a misspelt name is not applied.');
      expect(message).not.toContain(secret);

      resetWarnings();
      spy.mockClear();
      expect(misspeltEnvironment({ [keyLikeName]: 'x' })).toEqual([]); // far from any name: not reported at all
      parseOptions({ environment: { [keyLikeName]: 'x', KEYWARD_PEPPER_FIL: 'x' } });
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]![0]).toBe('keyward: the environment has "KEYWARD_PEPPER_FIL" (did you mean "KEYWARD_PEPPER_FILE"?), which keyward does not read; a setting under a misspelt name is not applied.');

      spy.mockClear();
      resetWarnings();
      parseOptions({ environment: { KEYWARD_PEPPER: secret } });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
