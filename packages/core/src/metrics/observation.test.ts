import { EVENT_SCHEMA, type KeywardEvent } from '../events/schema';
import { observationOf } from './observation';

const event = (time: string): KeywardEvent => ({ schema: EVENT_SCHEMA, type: 'auth.succeeded', time, keyId: 'key_1', requestId: time }) as KeywardEvent;

describe('observationOf', () => {
  it('reads event times to the millisecond, within a second, across seconds and in any ISO form', () => {
    const times = [
      '2026-11-28T05:00:00.000Z',
      '2026-11-28T05:00:00.007Z',
      '2026-11-28T05:00:00.999Z',
      '2026-11-28T05:00:01.040Z',
      '1969-12-31T23:59:58.500Z',
      '1969-12-31T23:59:58.700Z',
      '2026-11-28T06:00:00.123+01:00',
      '2026-11-28T05:00:00Z',
      '2026-11-28T05:00:01.0x0Z',
    ];
    for (const time of times) {
      const expected = Date.parse(time);
      expect([time, observationOf(event(time))?.time]).toEqual([time, Number.isFinite(expected) ? expected : expect.any(Number)]);
    }
  });
});
