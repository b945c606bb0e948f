import { requestId } from './request-id';

describe('requestId', () => {
  it('has the shape of a version-8 UUID', () => {
    for (let i = 0; i < 100; i++) expect(requestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeats within a process', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(requestId());
    expect(seen.size).toBe(10_000);
  });

  it('counts up by one in its last twelve digits', () => {
    const a = requestId();
    const b = requestId();
    expect(parseInt(b.slice(24), 16) - parseInt(a.slice(24), 16)).toBe(1);
  });

  it('differs between processes in its random part', async () => {
    jest.resetModules();
    const other = (await import('./request-id')).requestId;
    expect(other().slice(0, 23)).not.toBe(requestId().slice(0, 23));
  });
});
