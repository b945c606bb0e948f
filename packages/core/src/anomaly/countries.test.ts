import { CountrySet, MAX_OTHER_COUNTRIES } from './countries';

describe('CountrySet', () => {
  it('remembers every two-letter code, and up to 64 other names', () => {
    const set = new CountrySet();
    expect([set.has('FR'), set.size, set.list()]).toEqual([false, 0, []]);
    const codes: string[] = [];
    for (let i = 0; i < 26 * 26; i++) codes.push(String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
    for (const code of [...codes].reverse()) set.add(code);
    set.add('ZZ'); // again: counted once
    expect(set.size).toBe(676);
    expect(codes.every((c) => set.has(c))).toBe(true);
    expect(set.list()).toEqual(codes);
    for (let i = 0; i < 100; i++) set.add(`Region ${i}`);
    expect(set.size).toBe(676 + MAX_OTHER_COUNTRIES);
    expect([set.has('Region 0'), set.has('Region 63'), set.has('Region 64'), set.has('F'), set.has('F1'), set.has('fr')]).toEqual([true, true, false, false, false, false]);
  });
});
