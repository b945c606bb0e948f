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
