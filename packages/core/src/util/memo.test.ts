import { boundedMemo } from './memo';

describe('boundedMemo', () => {
  it('computes each input once, remembers undefined answers, and forgets everything past its bound', () => {
    const calls: string[] = [];
    const memo = boundedMemo((s: string) => { calls.push(s); return s === 'none' ? undefined : s.length; }, 3);
    expect([memo('a'), memo('bb'), memo('none'), memo('a'), memo('none')]).toEqual([1, 2, undefined, 1, undefined]);
    expect(calls).toEqual(['a', 'bb', 'none']);
    expect(memo('cccc')).toBe(4); // a fourth input: the memory starts over
    expect(memo('a')).toBe(1);
    expect(calls).toEqual(['a', 'bb', 'none', 'cccc', 'a']);
  });
});
