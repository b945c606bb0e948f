/** `bench/run.js`'s command line: a typo or `--help` must not start a half-hour run with defaults in its place. */
const { parseRunArgs, USAGE } = require('../../bench/lib/cli') as {
  parseRunArgs: (argv: string[], available: string[]) => { help?: true; scenarios?: string[]; opts?: Record<string, number> };
  USAGE: string;
};

const available = ['express', 'jwt', 'koa'];

describe('bench run.js arguments', () => {
  it('runs every scenario with the defaults when given nothing', () => {
    expect(parseRunArgs([], available)).toEqual({ scenarios: available, opts: { duration: 8, rounds: 3, processes: 1, connections: 50, together: false } });
  });

  it('reads the named scenarios, in the order given, and the options', () => {
    expect(parseRunArgs(['koa', '--duration', '2', 'express', '--rounds', '24', '--together', '--processes', '4', '--connections', '10', 'koa'], available)).toEqual({
      scenarios: ['koa', 'express'],
      opts: { duration: 2, rounds: 24, processes: 4, connections: 10, together: true },
    });
  });

  it('answers --help and -h with the usage, whatever else is given', () => {
    expect(parseRunArgs(['--help'], available)).toEqual({ help: true });
    expect(parseRunArgs(['express', '-h', '--rounds', 'x'], available)).toEqual({ help: true });
    expect(USAGE).toMatch(/^usage: node bench\/run\.js/);
    expect(USAGE).toContain('--processes P');
    expect(USAGE).toContain('--together');
  });

  it('refuses an unknown scenario, naming the ones there are', () => {
    expect(() => parseRunArgs(['exprss'], available)).toThrow('bench: no scenario "exprss"; there are: express, jwt, koa');
  });

  it('refuses an unknown option and a missing or bad value, naming the option', () => {
    expect(() => parseRunArgs(['--round', '24'], available)).toThrow('bench: unknown option --round (--help lists them)');
    expect(() => parseRunArgs(['-rounds', '24'], available)).toThrow('bench: unknown option -rounds');
    expect(() => parseRunArgs(['-together'], available)).toThrow('bench: unknown option -together');
    for (const bad of [[], ['0'], ['-1'], ['x'], ['Infinity']]) {
      expect(() => parseRunArgs(['--duration', ...bad], available)).toThrow('bench: --duration needs a positive number');
    }
    expect(() => parseRunArgs(['--connections', '2.5'], available)).toThrow('bench: --connections must be a positive integer');
  });
});
