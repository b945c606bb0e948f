import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyward } from '@keyward/core';
import { geoipCountryLookup } from './index';

/** The real geoip-lite, loaded afresh with its data directory pointing at an empty one (data files missing). */
function geoipWithoutData(): typeof import('geoip-lite') {
  const empty = mkdtempSync(join(tmpdir(), 'kw-geo-'));
  const before = process.env.GEODATADIR;
  process.env.GEODATADIR = empty;
  try {
    let loaded: typeof import('geoip-lite') | undefined;
    jest.isolateModules(() => {
      loaded = require('geoip-lite') as typeof import('geoip-lite');
    });
    return loaded!;
  } finally {
    if (before === undefined) delete process.env.GEODATADIR;
    else process.env.GEODATADIR = before;
    rmSync(empty, { recursive: true, force: true });
  }
}

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

  it('resolves a compressed IPv6 address as its full form (geoip-lite misreads "::" in the first 64 bits)', () => {
    const lookup = geoipCountryLookup();
    // geoip-lite's own parser leaves the groups after "::" in place as well as shifting them right, so "2620::300:1:1:1"
    // was looked up as 2620:0:300:1:… (another network, GB) and "2801::…" as nothing at all (unknown): a client picking
    // its interface id could pick its country, passing an allow-list or slipping past a deny-list.
    for (const [compressed, full] of [
      ['2620::300:1:1:1', '2620:0:0:0:300:1:1:1'],
      ['2620::f0:1:1:1', '2620:0:0:0:f0:1:1:1'],
      ['2801::8a7e:d640:cdae:15b4', '2801:0:0:0:8a7e:d640:cdae:15b4'],
      ['2001:4860:4860::8888', '2001:4860:4860:0:0:0:0:8888'],
    ]) {
      expect(lookup(full!)).toMatch(/^[A-Z]{2}$/);
      expect([compressed, lookup(compressed!)]).toEqual([compressed, lookup(full!)]);
      expect(lookup(compressed!.toUpperCase())).toBe(lookup(full!));
      expect(lookup(`${compressed}%eth0`)).toBe(lookup(full!));
    }
    expect(lookup('2620::300:1:1:1')).toBe('US');
    expect(lookup('::ffff:8.8.8.8')).toBe('US');
    expect(lookup('::ffff:808:808')).toBe('US');
  });

  it('a client cannot choose its country with the interface id of its IPv6 address', async () => {
    const kw = createKeyward({ trustProxy: ['loopback'], countryLookup: geoipCountryLookup() });
    const { key } = await kw.keys.create({ owner: 'acme', restrictions: { countries: { allow: ['GB'] } } });
    // a client in 2620::/64 (US) once passed a GB allow-list as 2620::300:1:1:1
    const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key, 'x-forwarded-for': '2620::300:1:1:1' }, remoteAddress: '127.0.0.1' });
    expect(d.ok ? 'allowed' : d.code).toBe('COUNTRY_FORBIDDEN');
    await kw.close();
  });

  it('an address keyward would not accept is unknown, whatever geoip-lite makes of it', () => {
    const lookup = geoipCountryLookup();
    for (const a of ['08.8.8.8', '8.8.8', '134744072', '8.8.8.8:80', '[2001:4860:4860::8888]', '2001:4860:4860::8888/32', ' 8.8.8.8']) expect(lookup(a)).toBeUndefined();
  });

  it('geoip-lite without its data: every country is unknown, said once in a warning (a deny-list refuses no one); preload throws at start-up', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const lookup = geoipCountryLookup({ load: geoipWithoutData });
      expect(lookup('8.8.8.8')).toBeUndefined();
      expect(lookup('193.99.144.80')).toBeUndefined();
      expect(lookup.loaded).toBe(false);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/^keyward: geoip-lite could not be loaded \(ENOENT: .*geoip-country\.dat.*\), so every country is unknown: country deny-lists refuse no one/);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'KEYWARD_GEOIP_UNAVAILABLE' });
      expect(() => geoipCountryLookup({ load: geoipWithoutData, preload: true })).toThrow(/ENOENT/);
    } finally {
      warn.mockRestore();
    }
  });

  it('a country deny-list behind a trusted proxy: a client cannot hide its country by padding X-Forwarded-For past 8 KiB', async () => {
    const kw = createKeyward({ trustProxy: ['loopback'], countryLookup: geoipCountryLookup(), restrictions: { countries: { deny: ['US'] } } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (const forwarded of ['8.8.8.8', `${'x'.repeat(9000)}, 8.8.8.8`, `${'1.1.1.1, '.repeat(1000)}8.8.8.8`]) {
      const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key, 'x-forwarded-for': forwarded }, remoteAddress: '127.0.0.1' });
      expect(d.ok ? 'allowed' : d.code).toBe('COUNTRY_FORBIDDEN');
    }
    await kw.close();
  });

  it('checks its options', () => {
    expect(() => geoipCountryLookup({ load: 'geoip' as never })).toThrow('keyward: option "load" must be a function');
    let loads = 0;
    const load = () => { loads++; return require('geoip-lite'); };
    for (const preload of ['false', 'true', 0, 1, null]) {
      expect(() => geoipCountryLookup({ load, preload: preload as never })).toThrow(new TypeError('keyward: option "preload" must be a boolean'));
    }
    expect(loads).toBe(0); // 'false' no longer loads the database at start-up
    expect(geoipCountryLookup({ load, preload: false }).loaded).toBe(false);
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
