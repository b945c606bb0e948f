/** The bench's CPU reading (`lib/proc.js`): what each server used in a round, from /proc, for the CPU-per-request column. */
const { cpuMs, statCpuMs } = require('../../bench/lib/proc') as { cpuMs: (pid: number) => number; statCpuMs: (text: string) => { user: number; system: number } };

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

  it('reads utime and stime after the command name, even one with spaces and parentheses', () => {
    const fields = ['S', ...Array.from({ length: 10 }, () => '0'), '250', '50', ...Array.from({ length: 30 }, () => '0')];
    const plain = statCpuMs(`1 (x) ${fields.join(' ')}`);
    expect(plain.user).toBeGreaterThan(0); // in ms, whatever CLK_TCK is
    expect(plain.user).toBe(5 * plain.system);
    expect(statCpuMs(`42 (node (a) b) ${fields.join(' ')}`)).toEqual(plain);
  });
});
