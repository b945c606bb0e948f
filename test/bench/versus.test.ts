/** The bench's `versus` rows: a subject judged against another subject of the same run must name one. */
const { checkVersus } = require('../../bench/lib/runner') as { checkVersus: (scenario: unknown) => void };
const jwt = require('../../bench/scenarios/jwt') as { subjects: Array<{ name: string; versus?: { target: string; goal: number } }> };

const scenario = (versus: unknown) => ({
  name: 's',
  baseline: { name: 'bare', script: 'b.js' },
  subjects: [
    { name: 'peer', script: 'p.js' },
    { name: 'subject', script: 's.js', versus },
  ],
});

describe('bench versus', () => {
  it('accepts a versus naming another subject', () => {
    expect(() => checkVersus(scenario({ target: 'peer', goal: 1 }))).not.toThrow();
    expect(() => checkVersus(jwt)).not.toThrow();
  });

  it('refuses a versus naming nothing, the baseline or the subject itself, naming the subject', () => {
    for (const bad of [{ target: 'nobody', goal: 1 }, { target: 'bare', goal: 1 }, { target: 'subject', goal: 1 }, null]) {
      expect(() => checkVersus(scenario(bad))).toThrow('bench: s: "subject".versus.target must name another subject of the scenario');
    }
  });

  it('judges keyward without its cache against plain jose, for both algorithms', () => {
    const versus = jwt.subjects.filter((t) => t.versus).map((t) => [t.name, t.versus!.target, t.versus!.goal]);
    expect(versus).toEqual([
      ['keyward JWT, HS256, no cache', 'plain jose jwtVerify, HS256', 1],
      ['keyward JWT, ES256, no cache', 'plain jose jwtVerify, ES256', 1],
    ]);
  });
});
