/** The WWW-Authenticate challenge names the schemes the instance accepts (RFC 9110 §11.6.1). */
import { createKeyward, type KeywardOptions } from './index';

async function challenge(options: KeywardOptions, headers: Record<string, string> = {}): Promise<string | undefined> {
  const kw = createKeyward(options);
  try {
    const d = await kw.check({ method: 'GET', path: '/', headers });
    if (d.ok) throw new Error('allowed');
    return d.headers['WWW-Authenticate'];
  } finally {
    await kw.close();
  }
}

describe('WWW-Authenticate names the accepted schemes', () => {
  it('Bearer by default, then the configured schemes as written', async () => {
    expect(await challenge({})).toBe('Bearer realm="keyward"');
    expect(await challenge({ schemes: ['ApiKey'] })).toBe('Bearer realm="keyward", ApiKey realm="keyward"');
    expect(await challenge({ schemes: ['bearer', 'Token', 'TOKEN'] })).toBe('Bearer realm="keyward", Token realm="keyward"');
  });

  it('never Bearer when Bearer is not accepted', async () => {
    expect(await challenge({ bearer: false, schemes: ['ApiKey'] })).toBe('ApiKey realm="keyward"');
    expect(await challenge({ bearer: false, schemes: ['ApiKey'] }, { 'x-api-key': 'kw_live_nope' })).toBe('ApiKey realm="keyward", error="invalid_token", error_description="Invalid credentials"');
    // the key only in its header: the custom ApiKey scheme
    expect(await challenge({ bearer: false })).toBe('ApiKey realm="keyward"');
    expect(await challenge({ bearer: false, realm: 'docs' })).toBe('ApiKey realm="docs"');
  });
});
