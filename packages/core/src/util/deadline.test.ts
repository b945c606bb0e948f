import { raceDeadline } from './deadline';

/** The one callback raceDeadline called, as `[kind, value]`, after anything late has had time to arrive. */
async function outcome(call: () => Promise<number>, timeoutMs: number, waitMs: number): Promise<Array<[string, unknown]>> {
  const seen: Array<[string, unknown]> = [];
  raceDeadline(call, timeoutMs, (v) => seen.push(['value', v]), (e) => seen.push(['error', (e as Error).message]), () => seen.push(['timeout', undefined]));
  await new Promise((r) => setTimeout(r, waitMs));
  return seen;
}

const later = <T>(ms: number, settle: (resolve: (v: T) => void, reject: (e: Error) => void) => void) => () => new Promise<T>((resolve, reject) => setTimeout(() => settle(resolve, reject), ms));

describe('raceDeadline', () => {
  it('hands on an answer or a failure that comes in time, once', async () => {
    expect(await outcome(() => Promise.resolve(7), 50, 80)).toEqual([['value', 7]]);
    expect(await outcome(() => Promise.reject(new Error('down')), 50, 80)).toEqual([['error', 'down']]);
    expect(await outcome(() => { throw new Error('sync'); }, 50, 80)).toEqual([['error', 'sync']]);
  });

  it('times out once, and drops a late answer or a late failure', async () => {
    expect(await outcome(later<number>(60, (resolve) => resolve(1)), 20, 100)).toEqual([['timeout', undefined]]);
    expect(await outcome(later<number>(60, (_r, reject) => reject(new Error('late'))), 20, 100)).toEqual([['timeout', undefined]]);
    expect(await outcome(() => new Promise<number>(() => {}), 20, 50)).toEqual([['timeout', undefined]]);
  });
});
