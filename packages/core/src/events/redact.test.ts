import { createEventPathRedactor, isCredentialName, redactCredentials, redactHeaders, redactQuery, REDACTED } from './redact';
import { eventUserAgent } from './schema';
import { generateKey } from '../keys/format';
import { createKeyward, type KeywardEvent } from '../index';

const KEY = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
const BODY = KEY.slice('kw_live_'.length);
/** A real-looking HS256 JWT (header and payload are JSON, the signature 43 base64url characters). */
const JWT = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"u1","exp":2000000000}').toString('base64url')}.${'s'.repeat(43)}`;

describe('isCredentialName', () => {
  it('recognises credential-like parameter names in any case and spelling, and leaves ordinary ones', () => {
    for (const name of ['x-api-key', 'X-API-KEY', 'apiKey', 'APIKEY', 'api_key', 'apiToken', 'authToken', 'oauth_token', 'accessToken', 'client_secret', 'clientSecret', 'password', 'user[password]', 'auth', 'Authorization', 'X-Amz-Signature', 'X-Amz-Credential', 'sig', 'key', 'jwt', 'session_id', 'jsessionid', 'PHPSESSID', 'accesskey', 'XApiKey', 'pass', 'smtp_pass', 'passcode']) {
      expect([name, isCredentialName(name)]).toEqual([name, true]);
    }
    for (const name of ['page', 'q', 'size', 'keyword', 'monkey', 'author', 'bypass', 'compass', 'passenger', 'sort', 'fields', 'signed_up_after', '', '_']) {
      expect([name, isCredentialName(name)]).toEqual([name, false]);
    }
  });
});

describe('redactCredentials', () => {
  it('redacts keys of any prefix and JWTs wherever they stand, and nothing else', () => {
    expect(redactCredentials(`/v1/${KEY}/docs`)).toBe(`/v1/${REDACTED}/docs`);
    expect(redactCredentials(`/v1/docs?x=${KEY}&y=1`)).toBe(`/v1/docs?x=${REDACTED}&y=1`);
    expect(redactCredentials(`/a/xx${KEY}yy`)).toBe(`/a/${REDACTED}`); // glued to other characters: the whole run goes
    expect(redactCredentials(`/v1/acme_test_${BODY}.json`)).toBe(`/v1/${REDACTED}.json`); // another prefix and env
    expect(redactCredentials(`/v1/${KEY.slice(0, -1)}0/docs`)).toBe(`/v1/${REDACTED}/docs`); // a near-miss (checksum) too
    expect(redactCredentials(`/t/${JWT}/x`)).toBe(`/t/${REDACTED}/x`);
    expect(redactCredentials(`/t?a=${JWT}&b=${KEY}`)).toBe(`/t?a=${REDACTED}&b=${REDACTED}`);
    expect(redactCredentials(`/t/${JWT.slice(0, JWT.lastIndexOf('.') + 1)}`)).toBe(`/t/${REDACTED}`); // unsecured: empty signature
    for (const plain of ['/v1/docs', '/user_profiles/42', '/a_b_c', '/snake_case_short', '/eyJhbGciOi', '/eyJhbGciOiJIUzI1NiJ9.only-one-dot', '/v1/%20x', 'Mozilla/5.0 (X11; Linux x86_64)', 'kw_live_…a1B2']) {
      expect(redactCredentials(plain)).toBe(plain);
    }
  });

  it('leaves random base64url that happens to hold a key\'s shape inside it, and still redacts a real key glued into such text', () => {
    // A JWK's `y`, a nonce, a digest: base64url where `…w_g_` and 22 alphanumerics are chance, glued to the characters around.
    const random = ['Qx3w_g_AbCdEfGhIjKlMnOpQrStUvW-9z', 'AAAAw_g_AbCdEfGhIjKlMnOpQrStUvWx_Yz0', '-w_g_AbCdEfGhIjKlMnOpQrStUvWx', 'Zab_c9_AbCdEfGhIjKlMnOpQrStUvWxyz'];
    for (const text of random) {
      expect(redactCredentials(text)).toBe(text);
      expect(redactCredentials(`{"kty":"EC","y":"${text}"}`)).toBe(`{"kty":"EC","y":"${text}"}`);
    }
    // A real key (its checksum holds) glued to base64url characters is still one; so is a near-miss standing alone.
    for (const text of [`Qx3${KEY}`, `${KEY}-9z`, `Xab${KEY}_x`, `-9${KEY}`]) expect([text, redactCredentials(text).includes(BODY)]).toEqual([text, false]);
    expect(redactCredentials(`/v1/${KEY.slice(0, -1)}0/docs`)).toBe(`/v1/${REDACTED}/docs`);
    expect(redactCredentials(`/a/xx${KEY}yy`)).toBe(`/a/${REDACTED}`);
  });

  it('redacts a JWT whose header JSON has white space (`{ "alg": … }` is `eyAi…`, not `eyJ…`), which jose accepts', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const payload = b64('{ "sub": "u1", "exp": 2000000000 }');
    for (const header of ['{ "alg": "HS256", "typ": "JWT" }', '{\n  "alg": "HS256"\n}', '{\t"alg":"HS256"}', '{\r\n"alg":"HS256"}', '{"1":"x","alg":"HS256"}']) {
      const token = `${b64(header)}.${payload}.${'s'.repeat(43)}`;
      expect([header, redactCredentials(`/t/${token}/x`)]).toEqual([header, `/t/${REDACTED}/x`]);
      expect([header, redactCredentials(`token ${token} refused`)]).toEqual([header, `token ${REDACTED} refused`]);
      expect([header, redactQuery(`/t?a=${encodeURIComponent(token)}`)]).toEqual([header, `/t?a=${REDACTED}`]);
    }
    // Ordinary words with `ey` or `ew` and dots are no JWT.
    for (const plain of ['/v1/keys/new.json', 'survey.eyes.view', '/review/eyAiYW.x.y', 'eyAiYWxnIjogIkhTMjU2IiB9.only-one-dot']) expect(redactCredentials(plain)).toBe(plain);
  });

  it('redacts the credential in play wherever it appears, however it is shaped', () => {
    expect(redactCredentials('/v1/opaque-legacy-key-123/x?again=opaque-legacy-key-123', 'opaque-legacy-key-123')).toBe(`/v1/${REDACTED}/x?again=${REDACTED}`);
    expect(redactCredentials('/v1/short', 'short')).toBe('/v1/short'); // too short to be told from ordinary text
  });

  it('looks behind percent-escapes of visible characters', () => {
    const escaped = KEY.replace(/_/g, '%5F');
    expect(redactCredentials(`/v1/${escaped}/docs?q=a%20b`)).toBe(`/v1/${REDACTED}/docs?q=a%20b`);
    expect(redactCredentials(`/v1/x?v=${encodeURIComponent('abc+/=def+ghi')}`, 'abc+/=def+ghi')).toBe(`/v1/x?v=${REDACTED}`);
    expect(redactCredentials('/v1/a%2Fb%5Fc')).toBe('/v1/a%2Fb%5Fc'); // nothing behind the escapes: untouched
  });

  it('looks behind escapes of escapes, up to three levels', () => {
    expect(redactCredentials(`/v1/${KEY.replace(/_/g, '%255F')}/docs`)).toBe(`/v1/${REDACTED}/docs`);
    expect(redactCredentials(`/v1/${KEY.replace(/_/g, '%25255F')}/docs`)).toBe(`/v1/${REDACTED}/docs`);
    const everyCharTwice = [...KEY].map((c) => `%25${c.charCodeAt(0).toString(16).toUpperCase()}`).join('');
    expect(redactCredentials(`/v1/${everyCharTwice}`)).toBe(`/v1/${REDACTED}`);
    const value = 'abc+/=def+ghi';
    expect(redactCredentials(`/v1/x?v=${encodeURIComponent(encodeURIComponent(value))}`, value)).toBe(`/v1/x?v=${REDACTED}`);
    expect(redactCredentials('/v1/a%252Fb%255Fc')).toBe('/v1/a%252Fb%255Fc'); // nothing behind the escapes: untouched
  });

  it('returns the very same string when there is nothing to redact', () => {
    const path = ['/v1/', 'docs'].join('');
    expect(redactCredentials(path, KEY)).toBe(path);
  });

  it('stays linear on hostile input', () => {
    const hostile = [
      'a_b_'.repeat(50_000),
      `a_b_${'x'.repeat(21)}`.repeat(10_000),
      'eyJ'.repeat(100_000),
      'eyAi'.repeat(50_000),
      `eyAiYWxn${'a'.repeat(10)}.`.repeat(20_000),
      'ew.'.repeat(70_000),
      `eyJ${'a'.repeat(10)}.`.repeat(20_000),
      `eyJ${'a'.repeat(10)}.b`.repeat(20_000),
      '_'.repeat(200_000),
      'a'.repeat(16).concat('_').repeat(20_000),
      `X${'a'.repeat(16)}_b_${'x'.repeat(30)}-`.repeat(4_000), // shapes glued into base64url: each checked by checksum
      `X${'a'.repeat(16)}_b_${'x'.repeat(200_000)}`,
      '%5F'.repeat(60_000),
      `/x?a=${'%26b=1'.repeat(30_000)}`,
      `/x?${'a=%26'.repeat(40_000)}`,
    ];
    // Linear time on these ~200,000 characters is tens of ms; quadratic would be ~10^10 steps, minutes. The bound sits
    // far from both, so a busy machine (two test workers on two cores) cannot fail it: 250 ms once did, at 263.
    for (const text of hostile) {
      const started = performance.now();
      redactCredentials(text, 'x'.repeat(40));
      redactQuery(text);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });
});

describe('redactQuery', () => {
  it('redacts listed and credential-like parameter names, then credential shapes in path and query', () => {
    expect(redactQuery(`/v1/x?x-api-key=${KEY}&page=2`)).toBe(`/v1/x?x-api-key=${REDACTED}&page=2`);
    expect(redactQuery('/v1/x?apiToken=abc&AUTH=x&keyword=rust')).toBe(`/v1/x?apiToken=${REDACTED}&AUTH=${REDACTED}&keyword=rust`);
    expect(redactQuery('/v1/x?my_param=abc', ['MY_PARAM'])).toBe(`/v1/x?my_param=${REDACTED}`);
    expect(redactQuery(`/v1/${KEY}/docs`)).toBe(`/v1/${REDACTED}/docs`);
    expect(redactQuery(`/v1/x?${KEY}`)).toBe(`/v1/x?${REDACTED}`);
    expect(redactQuery(`/v1/x?q=${JWT}`)).toBe(`/v1/x?q=${REDACTED}`);
  });

  it('redacts OAuth and SAML credentials by name: the authorization code, assertions, verifiers, device codes', () => {
    for (const name of ['code', 'Code', 'client_assertion', 'assertion', 'code_verifier', 'device_code', 'oauth_verifier', 'SAMLResponse', 'SAMLart', 'otp', 'ticket', 'refresh_token', 'id_token', 'X-Amz-Signature', 'sig']) {
      expect([name, redactQuery(`/cb?${name}=plain-secret-value&state=s1`)]).toEqual([name, `/cb?${name}=${REDACTED}&state=s1`]);
      expect([name, redactQuery(`/cb?state=s1&${name}=plain-secret-value`)]).toEqual([name, `/cb?state=s1&${name}=${REDACTED}`]);
      expect([name, redactQuery(`/cb#state=s1&${name}=plain-secret-value`)]).toEqual([name, `/cb#state=s1&${name}=${REDACTED}`]);
      expect([name, redactQuery(`${name}=plain-secret-value&state=s1`)]).toEqual([name, `${name}=${REDACTED}&state=s1`]); // a query string alone
    }
    expect(createEventPathRedactor()('/cb', 'code=plain-secret-value&state=s1', undefined)).toBe(`/cb?code=${REDACTED}&state=s1`);
    // `code` and `ticket` are credentials as parameters, ordinary words in free text.
    expect(redactQuery('upstream failed with code=503 ticket=T-1')).toBe('upstream failed with code=503 ticket=T-1');
    expect(redactQuery('/cb?code=plain-secret-value&state=s1 failed with code=503')).toBe(`/cb?code=${REDACTED}&state=s1 failed with code=503`);
    expect(redactQuery('/v1/x?zipcode=12345&codec=h264&state=s1')).toBe('/v1/x?zipcode=12345&codec=h264&state=s1');
  });

  it('finds parameters after `;`, a second `?`, in a fragment and as a path segment\'s `;name=value`', () => {
    expect(redactQuery('/v1/x?a=1;api_key=secret-value')).toBe(`/v1/x?a=1;api_key=${REDACTED}`);
    expect(redactQuery('/v1/x?a=1?token=secret-value&page=2')).toBe(`/v1/x?a=1?token=${REDACTED}&page=2`);
    // OAuth's implicit flow returns its token in the fragment.
    expect(redactQuery('/cb#access_token=secret-value&expires_in=3600&state=s1')).toBe(`/cb#access_token=${REDACTED}&expires_in=3600&state=s1`);
    expect(redactQuery('/cb?x=1#access_token=secret-value')).toBe(`/cb?x=1#access_token=${REDACTED}`);
    expect(redactQuery('https://app.example/cb?x=1#access_token=secret-value')).toBe(`https://app.example/cb?x=1#access_token=${REDACTED}`);
    expect(redactQuery('/shop;jsessionid=0A1B2C3D/cart;apiKey=secret-value;v=2/items')).toBe(`/shop;jsessionid=${REDACTED}/cart;apiKey=${REDACTED};v=2/items`);
    // Nothing else moves: `/` and `=` inside a query value, `=` in a path segment.
    expect(redactQuery('/v1/x?redirect=/a/b?page=2&sort=a=b')).toBe('/v1/x?redirect=/a/b?page=2&sort=a=b');
    expect(redactQuery('/v1/a=b/token')).toBe('/v1/a=b/token');
  });

  it('redacts a value whose escapes hide a credential parameter or a URL\'s user information, whatever its name', () => {
    const hidden = [
      '/v1/x?x=1%26api_key=plain-secret-value', // `&` escaped: a server that decodes twice reads api_key
      '/v1/x?x=1%26api_key%3Dplain-secret-value',
      '/v1/x?x=1%2526api_key%253Dplain-secret-value', // escaped twice
      '/v1/x?x=1%3Bpassword%3Dplain-secret-value',
      '/login?next=%2Fcb%3Fcode%3Dplain-secret-value%26state%3Ds1', // an authorization code in a redirect URL
      '/login?next=%2Fcb%23access_token%3Dplain-secret-value',
      '/login?next=https%3A%2F%2Falice%3Aplain-secret-value%40app.example%2Fhome',
    ];
    for (const url of hidden) {
      const out = redactQuery(url);
      expect([url, out.includes('plain-secret-value'), out.endsWith(REDACTED)]).toEqual([url, false, true]);
      const q = url.indexOf('?');
      expect([url, createEventPathRedactor()(url.slice(0, q), url.slice(q + 1), undefined).includes('plain-secret-value')]).toEqual([url, false]);
    }
    expect(redactQuery('/v1/x?x=1%26api_key=plain-secret-value&page=2')).toBe(`/v1/x?x=${REDACTED}&page=2`);
    // Escapes that hide nothing stay as they are.
    for (const plain of ['/v1/x?q=a%20b%26c&page=2', '/login?next=%2Fdocs%3Fpage%3D2', '/v1/x?email=bob%40example.com']) expect(redactQuery(plain)).toBe(plain);
  });

  it('reads name=value pairs written apart in text that is no URL (a connection string, a log message)', () => {
    expect(redactQuery('host=db user=app password=plain-pass dbname=x')).toBe(`host=db user=app password=${REDACTED} dbname=x`);
    expect(redactQuery('login failed user=bob token=plain-token\tip=10.0.0.1\napi_key=plain-key')).toBe(`login failed user=bob token=${REDACTED}\tip=10.0.0.1\napi_key=${REDACTED}`);
    expect(redactQuery('page=2 sort=name')).toBe('page=2 sort=name');
    expect(redactQuery('/var/run/app.sock refused: user=app password=plain-pass')).toBe(`/var/run/app.sock refused: user=app password=${REDACTED}`);
  });

  it('redacts the user information of a URL, in a target, a query value or any text', () => {
    expect(redactQuery('http://alice:plain-pass@api.example/x?page=2')).toBe(`http://${REDACTED}@api.example/x?page=2`);
    expect(redactQuery('//alice:plain-pass@api.example/x')).toBe(`//${REDACTED}@api.example/x`);
    expect(redactQuery('/login?next=https://alice:plain-pass@app.example/home')).toBe(`/login?next=https://${REDACTED}@app.example/home`);
    expect(redactQuery('connecting to redis://:plain-pass@cache:6379 and postgres://bob:other-pass@db/x failed')).toBe(`connecting to redis://${REDACTED}@cache:6379 and postgres://${REDACTED}@db/x failed`);
    expect(redactQuery('https://sk_test_4eC39HqLyjWDarjtT1zdp7dc:@api.example/v1')).toBe(`https://${REDACTED}@api.example/v1`);
    for (const clean of ['/users/@me', 'https://api.example/x/@me?a=b@c', 'write to a@b.example', '/a@b://c/d']) expect(redactQuery(clean)).toBe(clean);
  });

  it('reads a parameter name behind up to three levels of escaping, as values are, malformed escapes and all', () => {
    expect(redactQuery('/v1/x?api%5Fkey=secret-value')).toBe(`/v1/x?api%5Fkey=${REDACTED}`);
    expect(redactQuery('/v1/x?api%255Fkey=secret-value')).toBe(`/v1/x?api%255Fkey=${REDACTED}`);
    expect(redactQuery('/v1/x?api%25255Fkey=secret-value')).toBe(`/v1/x?api%25255Fkey=${REDACTED}`);
    expect(redactQuery('/v1/x?api%2520key=secret-value')).toBe(`/v1/x?api%2520key=${REDACTED}`);
    expect(redactQuery('/v1/x?api%5Fkey%=secret-value&%E0=1')).toBe(`/v1/x?api%5Fkey%=${REDACTED}&%E0=1`);
    expect(redactQuery('/v1/x?%20my_param=abc', ['my_param'])).toBe(`/v1/x?%20my_param=${REDACTED}`);
    expect(redactQuery('/v1/x?page%255F=2')).toBe('/v1/x?page%255F=2');
  });
});

describe('createEventPathRedactor', () => {
  const eventPath = createEventPathRedactor({ queryParams: ['access_key'] });

  it('redacts by name, the presented credential, and shapes; a clean path comes back as it was', () => {
    expect(eventPath(`/v1/${KEY}/docs`, `x-api-key=${KEY}&apiToken=${KEY}&page=2`, KEY)).toBe(`/v1/${REDACTED}/docs?x-api-key=${REDACTED}&apiToken=${REDACTED}&page=2`);
    expect(eventPath('/v1/docs', 'access_key=zzz&page=2', undefined)).toBe(`/v1/docs?access_key=${REDACTED}&page=2`);
    expect(eventPath('/v1/docs/legacy-0123456789abcdef', '', 'legacy-0123456789abcdef')).toBe(`/v1/docs/${REDACTED}`);
    const clean = ['/v1/', 'docs'].join('');
    expect(eventPath(clean, '', KEY)).toBe(clean);
    expect(eventPath(clean, undefined, undefined)).toBe(clean);
    expect(eventPath('/v1/docs', 'page=2&sort=name', KEY)).toBe('/v1/docs?page=2&sort=name');
  });

  it('redacts parameters after `;`, in a fragment and in a path without a query', () => {
    expect(eventPath('/v1/docs', 'a=1;api_key=secret-value', undefined)).toBe(`/v1/docs?a=1;api_key=${REDACTED}`);
    expect(eventPath('/cb', 'a=1#access_token=secret-value', undefined)).toBe(`/cb?a=1#access_token=${REDACTED}`);
    expect(eventPath('/cb#access_token=secret-value', '', undefined)).toBe(`/cb#access_token=${REDACTED}`);
    expect(eventPath('/v1;jsessionid=0A1B2C3D/docs', undefined, undefined)).toBe(`/v1;jsessionid=${REDACTED}/docs`);
    expect(eventPath('/v1/docs', 'access%25255Fkey=zzz', undefined)).toBe(`/v1/docs?access%25255Fkey=${REDACTED}`);
  });

  it('redacts the user information of an absolute-form target or of a URL in the query', () => {
    expect(eventPath('http://alice:plain-pass@api.example/v1/docs', '', undefined)).toBe(`http://${REDACTED}@api.example/v1/docs`);
    expect(eventPath('/login', 'next=https://alice:plain-pass@app.example/', undefined)).toBe(`/login?next=https://${REDACTED}@app.example/`);
    expect(eventPath('/users/@me', '', undefined)).toBe('/users/@me');
  });

  it('remembers a clean path, and still looks for the credential presented with the next request', () => {
    const fresh = createEventPathRedactor();
    const path = '/v1/legacy-0123456789abcdef';
    expect(fresh(path, '', undefined)).toBe(path);
    expect(fresh(path, '', 'other-credential-123')).toBe(path);
    expect(fresh(path, '', 'legacy-0123456789abcdef')).toBe(`/v1/${REDACTED}`);
    expect(fresh('/v1/user_profiles/42', '', KEY)).toBe('/v1/user_profiles/42');
    expect(fresh(`/v1/user_profiles/42/${KEY}`, '', undefined)).toBe(`/v1/user_profiles/42/${REDACTED}`);
  });
});

describe('request events', () => {
  it('never carry the key: in an unlisted query parameter, in the path, as a JWT, refused or allowed', async () => {
    const kw = createKeyward({ metrics: true });
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const body = key.slice(key.lastIndexOf('_') + 1);
    const requests = [
      { path: `/v1/${key}/docs`, query: `x-api-key=${key}&apiToken=${key}&page=2` },
      { path: '/v1/docs', query: `other=${encodeURIComponent(key)}` },
      { path: `/v1/${JWT}/docs`, query: `q=${JWT}` },
    ];
    for (const r of requests) {
      for (const scopes of [['docs:read'], ['docs:write']]) {
        const d = await kw.check({ method: 'GET', ...r, headers: { 'x-api-key': key }, remoteAddress: '10.0.0.1' }, { scopes });
        if (d.ok) d.done({ status: 200, bytes: 1 });
      }
    }
    await kw.check({ method: 'GET', path: `/v1/${key}`, headers: {}, remoteAddress: '10.0.0.1' }); // no credential: 401
    await kw.flushEvents();
    const requestEvents = events.filter((e) => e.path !== undefined);
    expect(requestEvents.map((e) => e.type)).toEqual([...Array(3).fill(['auth.succeeded', 'request.completed', 'access.denied']).flat(), 'auth.failed']);
    expect(requestEvents.find((e) => e.type === 'request.completed')!.path).toBe(`/v1/${REDACTED}/docs?x-api-key=${REDACTED}&apiToken=${REDACTED}&page=2`);
    const text = JSON.stringify(events) + JSON.stringify(kw.metrics!.forKey(events.find((e) => e.keyId)!.keyId!));
    for (const secret of [key, body, JWT]) expect(text).not.toContain(secret);
    await kw.close();
  });
});

describe('redactHeaders', () => {
  it('redacts headers whose names look like a credential\'s, listed or not, and keys and JWTs in any other header', () => {
    const headers = { 'X-Auth-Token': 'plain-secret-1', 'x-client-secret': 'plain-secret-2', 'x-partner-key': 'plain-secret-3', 'x-amz-security-token': 'plain-secret-4', authorization: 'Bearer x', referer: `https://app.example/${KEY}`, 'user-agent': `cli (${JWT})`, via: ['1.1 a', `1.1 ${KEY}`], accept: 'json', 'x-keyword': 'rust', host: undefined };
    expect(redactHeaders(headers)).toEqual({ 'X-Auth-Token': REDACTED, 'x-client-secret': REDACTED, 'x-partner-key': REDACTED, 'x-amz-security-token': REDACTED, authorization: REDACTED, referer: `https://app.example/${REDACTED}`, 'user-agent': `cli (${REDACTED})`, via: ['1.1 a', `1.1 ${REDACTED}`], accept: 'json', 'x-keyword': 'rust', host: undefined });
  });
});

describe('redactHeaders and hostile header names', () => {
  it('keeps a header named __proto__ as a header, never as the copy\'s prototype', () => {
    const headers = JSON.parse('{"__proto__":["attack-1","attack-2"],"constructor":"c","x-api-key":"k"}') as Record<string, unknown>;
    const out = redactHeaders(headers);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Array.isArray(out)).toBe(false);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor', 'x-api-key']);
    expect(JSON.stringify(out)).toBe('{"__proto__":["attack-1","attack-2"],"constructor":"c","x-api-key":"[REDACTED]"}');
  });
});

describe('redactCredentials and base64', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const b64url = (text: string) => Buffer.from(text).toString('base64url');
  /** Every encoding of `text` a client may send: standard with padding, unpadded, url-safe. */
  const encodings = (text: string) => [b64(text), b64(text).replace(/=+$/, ''), b64url(text)];

  it('redacts a value that decodes, as base64 or base64url, to text holding a keyward key or a JWT', () => {
    for (const secret of [`${KEY}:`, `key_01HX:${KEY}`, `:${KEY}`, KEY, `client:${JWT}`, JWT]) {
      for (const encoded of encodings(secret)) {
        expect([secret, encoded, redactCredentials(`acme-cli/1.0 (auth ${encoded})`)]).toEqual([secret, encoded, `acme-cli/1.0 (auth ${REDACTED})`]);
        expect([secret, encoded, redactCredentials(`/v1/keys/${encoded}/docs`)]).toEqual([secret, encoded, `/v1/keys/${REDACTED}/docs`]);
        expect([secret, encoded, redactQuery(`/v1/docs?page=2&x=${encodeURIComponent(encoded)}`)]).toEqual([secret, encoded, `/v1/docs?page=2&x=${REDACTED}`]);
        expect([secret, encoded, eventUserAgent(`acme-cli/1.0 Basic ${encoded}`)]).toEqual([secret, encoded, `acme-cli/1.0 Basic ${REDACTED}`]);
      }
    }
    expect(createEventPathRedactor()('/v1/docs', `x=${b64url(`${KEY}:`)}&page=2`, undefined)).toBe(`/v1/docs?x=${REDACTED}&page=2`);
    // The shortest shapes: a 13-character JWT (18 base64 characters, the last one's low bits zero) and a 26-character key.
    for (const shortest of ['eyJhbGciOi.x.', `a_b_${BODY.slice(0, 22)}`]) {
      expect(redactCredentials(shortest)).toBe(REDACTED);
      for (let cut = 0; cut < shortest.length; cut++) expect(redactCredentials(shortest.slice(0, cut))).toBe(shortest.slice(0, cut)); // shorter is no shape: these are the shortest
      for (const encoded of encodings(shortest)) expect([shortest, encoded, redactCredentials(`ua ${encoded} x`)]).toEqual([shortest, encoded, `ua ${REDACTED} x`]);
    }
  });

  it('redacts an HTTP Basic credential (base64 of user:password) after `Basic`, however short, and leaves prose', () => {
    for (const pair of ['alice:correct-horse-battery', 'u:p', ':', 'bob:pässwörd']) {
      for (const encoded of encodings(pair)) {
        expect([pair, redactCredentials(`acme-cli/1.0 (Basic ${encoded})`)]).toEqual([pair, `acme-cli/1.0 (Basic ${REDACTED})`]);
        expect([pair, eventUserAgent(`curl/8.4 basic  ${encoded}`)]).toEqual([pair, `curl/8.4 basic  ${REDACTED}`]);
        expect([pair, redactQuery(`upstream refused Authorization: BASIC ${encoded}, retrying`)]).toEqual([pair, `upstream refused Authorization: BASIC ${REDACTED}, retrying`]);
      }
    }
    for (const prose of ['Basic authentication required', 'Supports Basic Auth and Bearer tokens', 'Basic realm="api"', 'basic plan', 'Basic', 'thebasic dTpw', 'Basic dXNlcg==']) expect(redactCredentials(prose)).toBe(prose);
  });

  it('leaves base64 that decodes to anything else, and ordinary text with long runs of base64 characters', () => {
    for (const plain of [
      `/v1/files/${b64('a perfectly ordinary file name, long enough.txt')}`,
      `/v1/users/550e8400-e29b-41d4-a716-446655440000/api/v1/organizations/acme/projects`,
      `Apache-HttpClient/4.5.14 (Java/17.0.8) ${b64url(Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 37) % 256)).toString('latin1'))}`,
      `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15`,
      `/v1/basic/${b64('user:plain-password')}`,
    ]) {
      expect(redactCredentials(plain)).toBe(plain);
    }
  });

  it('stays linear on hostile base64 input', () => {
    const hostile = [b64('a:'.repeat(100_000)), 'QUFB'.repeat(50_000), `${b64(`${'x'.repeat(30)}_`)}-`.repeat(5_000), 'A'.repeat(200_000), 'S2V5'.repeat(50_000), `${b64(KEY)}____`.repeat(4_000), `${b64url(`x:${KEY}`)}/`.repeat(3_000), 'Basic '.repeat(40_000), `Basic ${'QUFB'.repeat(50_000)}`, 'basic Og== '.repeat(20_000)];
    for (const text of hostile) {
      const started = performance.now();
      redactCredentials(text);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });
});
