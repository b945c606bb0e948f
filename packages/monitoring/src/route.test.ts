import { boundedRoutes, defaultRouteNormaliser } from './route';

describe('defaultRouteNormaliser', () => {
  it('replaces id-like segments, drops the query and cuts long paths, the same on every call', () => {
    for (let round = 0; round < 2; round++) {
      expect(defaultRouteNormaliser('/v1/users/42/keys?x=1')).toBe('/v1/users/:id/keys');
      expect(defaultRouteNormaliser('/v1/docs/3f2a9c0e-1b2d-4e5f-8a9b-0c1d2e3f4a5b')).toBe('/v1/docs/:id');
      expect(defaultRouteNormaliser('/a/b/c/d/e/f/g/h')).toBe('/a/b/c/d/e/f/…');
      expect(defaultRouteNormaliser('/v1/docs')).toBe('/v1/docs');
    }
  });

  it('stays right past the paths it remembers', () => {
    for (let i = 0; i < 2500; i++) expect(defaultRouteNormaliser(`/v1/items/${i}/x${i % 7}`)).toBe(`/v1/items/:id/x${i % 7}`);
    expect(defaultRouteNormaliser('/v1/users/42/keys')).toBe('/v1/users/:id/keys');
  });

  it('is bounded in distinct labels by boundedRoutes', () => {
    const route = boundedRoutes(defaultRouteNormaliser, 2);
    expect([route('/a'), route('/b'), route('/c'), route('/a')]).toEqual(['/a', '/b', 'other', '/a']);
  });
});

describe('defaultRouteNormaliser and credentials', () => {
  const key = `kw_live_${'abcdefgh'.repeat(3)}QQ`; // 26 letters after the env: short, and no digit for ID_SEGMENT to see
  const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.${'s'.repeat(43)}`;

  it('labels a segment holding a key or a JWT :credential, whatever its length or neighbours', () => {
    expect(defaultRouteNormaliser(`/v1/${key}/docs`)).toBe('/v1/:credential/docs');
    expect(defaultRouteNormaliser(`/v1/key:${key}/docs?apiToken=${key}`)).toBe('/v1/:credential/docs');
    expect(defaultRouteNormaliser(`/v1/${key.replace(/_/g, '%5F')}/docs`)).toBe('/v1/:credential/docs');
    expect(defaultRouteNormaliser(`/t/${jwt}`)).toBe('/t/:credential');
    expect(defaultRouteNormaliser('/v1/[REDACTED]/docs?x-api-key=[REDACTED]')).toBe('/v1/:credential/docs'); // a redacted event path
    expect(defaultRouteNormaliser('/v1/user_profiles/42')).toBe('/v1/user_profiles/:id');
  });

  it('never remembers a credential: only the redacted path, without its query, reaches its memo', () => {
    const set = jest.spyOn(Map.prototype, 'set');
    try {
      expect(defaultRouteNormaliser(`/v1/${key}/fresh?x-api-key=${key}`)).toBe('/v1/:credential/fresh');
      const remembered = set.mock.calls.map((c) => String(c[0]));
      expect(remembered).toContain('/v1/[REDACTED]/fresh');
      expect(remembered.join(' ')).not.toContain(key.slice(8));
    } finally {
      set.mockRestore();
    }
  });
});
