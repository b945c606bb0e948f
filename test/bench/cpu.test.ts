/** The bench's CPU reading (`cpuMs`): what each server used in a round, from /proc, for the CPU-per-request column. */
const { cpuMs } = require('../../bench/lib/runner') as { cpuMs: (pid: number) => number };

describe('bench cpuMs', () => {
  it('reads a running process\'s CPU time, which grows as it works', () => {
    const before = cpuMs(process.pid);
    expect(Number.isFinite(before)).toBe(true);
    const until = Date.now() + 60;
    let spin = 0;
    while (Date.now() < until) spin++;
    expect(spin).toBeGreaterThan(0);
    expect(cpuMs(process.pid)).toBeGreaterThan(before);
  });

  it('answers NaN for a process that does not exist, rather than throwing', () => {
    expect(cpuMs(2 ** 22 + 12345)).toBeNaN();
  });
});
