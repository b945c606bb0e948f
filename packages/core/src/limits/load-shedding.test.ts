import { createKeyward } from '../keyward';
import type { AuthRequest, DenyDecision } from '../index';
import { eventLoopDelaySignal } from './load-shedding';

const req = (key: string): AuthRequest => ({ method: 'GET', path: '/x', headers: { 'x-api-key': key }, remoteAddress: '192.0.2.1' });

describe('load shedding', () => {
  it('sheds lowest plans first with 503 OVERLOADED and Retry-After, and recovers by itself', async () => {
    let load = 0;
    const kw = createKeyward({ loadShedding: { maxEventLoopDelay: 100, planPriority: ['free', 'pro', 'enterprise'], retryAfter: '3s', signal: () => load } });
    const keys: Record<string, string> = {};
    for (const plan of ['free', 'pro', 'enterprise']) keys[plan] = (await kw.keys.create({ owner: plan, plan })).key;
    keys['none'] = (await kw.keys.create({ owner: 'none' })).key;
    const allowed = async () => {
      const out: string[] = [];
      for (const [plan, key] of Object.entries(keys)) if ((await kw.check(req(key))).ok) out.push(plan);
      return out.sort();
    };
    expect(await allowed()).toEqual(['enterprise', 'free', 'none', 'pro']);
    load = 150;
    expect(await allowed()).toEqual(['enterprise', 'pro']);
    const d = (await kw.check(req(keys['free']!))) as DenyDecision;
    expect([d.status, d.code, d.headers['Retry-After']]).toEqual([503, 'OVERLOADED', '3']);
    load = 250;
    expect(await allowed()).toEqual(['enterprise']);
    load = 1000;
    expect(await allowed()).toEqual([]);
    load = 20;
    expect(await allowed()).toEqual(['enterprise', 'free', 'none', 'pro']);
    await kw.close();
  });

  it('measures real event-loop delay: a blocked loop raises the signal, which falls again, whenever the stall falls in the sampling interval', async () => {
    // A stall just before the sampling timer fires used to be lost (Node's histogram reset forgets the tick that spans
    // it): about one stall in 40. Stalls at several offsets into the 100 ms interval must each be seen.
    const monitor = eventLoopDelaySignal(100);
    try {
      for (const offset of [150, 190, 230, 270]) {
        await new Promise((r) => setTimeout(r, offset));
        const end = Date.now() + 250;
        while (Date.now() < end) { /* block the loop */ }
        let peak = 0;
        for (let i = 0; i < 100 && peak <= 100; i++) {
          await new Promise((r) => setTimeout(r, 10));
          peak = Math.max(peak, monitor.read());
        }
        expect(peak).toBeGreaterThan(100);
        let calm = monitor.read();
        for (let i = 0; i < 20 && calm > 100; i++) {
          await new Promise((r) => setTimeout(r, 60));
          calm = monitor.read();
        }
        expect(calm).toBeLessThan(100);
      }
    } finally {
      monitor.stop();
    }
  });

  it('validates its options', () => {
    expect(() => createKeyward({ loadShedding: { planPriority: 'free' as never } })).toThrow('keyward: option "loadShedding.planPriority"');
    expect(() => createKeyward({ loadShedding: { signal: 5 as never } })).toThrow('keyward: option "loadShedding.signal"');
    // A plan listed twice would be ranked by its last place, silently above the plans between (here: free above pro).
    expect(() => createKeyward({ loadShedding: { planPriority: ['free', 'pro', 'free'] } })).toThrow('keyward: option "loadShedding.planPriority" lists the plan "free" twice');
  });

  it('refuses a plan a letter or two from one of limits.plans: its callers would be shed first, with the plans not listed', async () => {
    const plans = { free: {}, pro: {}, enterprise: {} };
    const start = (planPriority: string[]) => () => createKeyward({ limits: { plans }, loadShedding: { planPriority, signal: () => 0 } });
    expect(start(['free', 'pro', 'enterprse'])).toThrow(TypeError);
    expect(start(['free', 'pro', 'enterprse'])).toThrow('keyward: option "loadShedding.planPriority[2]" names the plan "enterprse", which "limits.plans" does not configure (did you mean "enterprise"? known: free, pro, enterprise)');
    expect(start(['Free', 'pro'])).toThrow('keyward: option "loadShedding.planPriority[0]" names the plan "Free"');
    // plans as listed, or far from every configured one (a token's plan claim may name plans "limits" does not know)
    await start(['free', 'pro', 'enterprise', 'partner-tier'])().close();
    await createKeyward({ loadShedding: { planPriority: ['fre', 'pro'], signal: () => 0 } }).close(); // no limits.plans: nothing to compare
  });
});
