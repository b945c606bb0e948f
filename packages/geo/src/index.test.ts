import { geoipCountryLookup } from './index';

describe('@keyward/geo with the real geoip-lite data', () => {
  it('is lazy: nothing is loaded until the first lookup', () => {
    let loads = 0;
    const lookup = geoipCountryLookup({ load: () => { loads++; return require('geoip-lite'); } });
    expect(lookup.loaded).toBe(false);
    expect(loads).toBe(0);
    expect(lookup('8.8.8.8')).toBe('US');
    expect(lookup('81.2.69.142')).toBe('GB');
    expect(loads).toBe(1);
    expect(lookup.loaded).toBe(true);
  });

  it('resolves known public addresses, IPv4 and IPv6', () => {
    const lookup = geoipCountryLookup({ preload: true });
    expect(lookup.loaded).toBe(true);
    expect(lookup('8.8.8.8')).toBe('US');
    expect(lookup('193.99.144.80')).toBe('DE');
    expect(lookup('2001:4860:4860::8888')).toBe('US');
  });

  it('private, loopback and garbage resolve to undefined and never throw', () => {
    const lookup = geoipCountryLookup();
    for (const a of ['127.0.0.1', '10.0.0.1', '::1', 'not an ip', '', 'x'.repeat(1000), '0x7f.1']) expect(lookup(a)).toBeUndefined();
    expect(lookup(42 as never)).toBeUndefined();
  });

  it('checks its options', () => {
    expect(() => geoipCountryLookup({ load: 'geoip' as never })).toThrow('keyward: option "load" must be a function');
  });

  it('refuses an unknown option, naming it, before anything is loaded', () => {
    let loads = 0;
    const load = () => { loads++; return require('geoip-lite'); };
    expect(() => geoipCountryLookup({ load, preLoad: true } as never)).toThrow('keyward: geoipCountryLookup() has an unknown field "preLoad" (did you mean "preload"? known: preload, load)');
    expect(loads).toBe(0);
    expect(geoipCountryLookup({ load, preload: true }).loaded).toBe(true);
    expect(loads).toBe(1);
  });
});
