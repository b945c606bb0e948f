import { tightest, writeRateLimitHeaders, type PolicyState } from './headers';

const now = Date.parse('2026-01-01T00:00:00Z');
const burst: PolicyState = { name: 'burst', limit: 100, windowSeconds: 10, remaining: 99, resetAt: now + 10_000, unit: 'request' };
const daily: PolicyState = { name: 'daily', limit: 1000, windowSeconds: 86400, remaining: 3, resetAt: now + 3_600_000, unit: 'request' };
const egress: PolicyState = { name: 'egress', limit: 5000, windowSeconds: 86400, remaining: 0, resetAt: now + 3_600_000, unit: 'content-bytes' };

describe('rate-limit headers', () => {
  it('writes the draft-10 fields, one entry per policy', () => {
    const h: Record<string, string> = {};
    writeRateLimitHeaders(h, [burst, daily, egress], 'draft', now);
    expect(h).toEqual({
      'RateLimit-Policy': '"burst";q=100;w=10, "daily";q=1000;w=86400, "egress";q=5000;qu="content-bytes";w=86400',
      RateLimit: '"burst";r=99;t=10, "daily";r=3;t=3600, "egress";r=0;t=3600',
    });
  });

  it('writes the legacy fields for the tightest request policy', () => {
    const h: Record<string, string> = {};
    writeRateLimitHeaders(h, [burst, daily, egress], 'legacy', now);
    expect(h).toEqual({ 'X-RateLimit-Limit': '1000', 'X-RateLimit-Remaining': '3', 'X-RateLimit-Reset': String(Math.ceil((now + 3_600_000) / 1000)) });
  });

  it('writes both, or nothing', () => {
    const both: Record<string, string> = {};
    writeRateLimitHeaders(both, [burst], 'both', now);
    expect(Object.keys(both).sort()).toEqual(['RateLimit', 'RateLimit-Policy', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
    const none: Record<string, string> = {};
    writeRateLimitHeaders(none, [burst], false, now);
    expect(none).toEqual({});
  });

  it('ties go to the later reset', () => {
    expect(tightest([{ ...burst, remaining: 3 }, daily])!.name).toBe('daily');
    expect(tightest([egress])!.name).toBe('egress');
  });
});
