import { crc32 } from 'node:zlib';
import { encodeBase62, generateKey, randomBase62 } from '@keyward/core';
import { githubChecksumOk, mask } from './detectors';
import { scanText } from './scan-text';
import { createProgress } from './progress';

function gh(prefix = 'ghp'): string {
  const r = randomBase62(30);
  return `${prefix}_${r}${encodeBase62(crc32(r), 6)}`;
}

describe('detectors', () => {
  it('verifies the classic GitHub checksum (CRC32 of the 30 random characters, base62, 6 digits)', () => {
    const t = gh();
    expect(githubChecksumOk(t)).toBe(true);
    expect(githubChecksumOk(t.slice(0, -1) + (t.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(githubChecksumOk('ghp_short')).toBe(false);
  });

  it('finds keyward keys of any prefix, even glued after an underscore, and only with a valid checksum', () => {
    const k = generateKey({ prefix: 'acme', randomBits: 128 }, 'test');
    const bad = k.slice(0, -1) + (k.endsWith('a') ? 'b' : 'a');
    const found = scanText(`A=${k}\nB=${bad}\nMY_${k}\nx${k}y\n`, 'f');
    expect(found.map((f) => [f.line, f.column, f.kind])).toEqual([[1, 3, 'keyward-key'], [3, 4, 'keyward-key']]);
    expect(found[0]!.masked).toBe(`acme_test_…${k.slice(-4)}`);
  });

  it('reports AWS secrets only in context: a secret-ish name, or the same line as a key id', () => {
    const secret = `${randomBase62(36)}/a1B`;
    expect(scanText(`aws_secret_access_key=${secret}`, 'f').map((f) => f.kind)).toEqual(['aws-secret-access-key']);
    expect(scanText(`value=${secret}`, 'f')).toEqual([]);
    expect(scanText(`AKIAABCDEFGHIJKLMNOP ${secret}`, 'f').map((f) => f.kind)).toEqual(['aws-access-key-id', 'aws-secret-access-key']); // keyward:allow (fixture)
    expect(scanText('AKIAIOSFODNN7EXAMPLE', 'f')).toEqual([]);
  });

  it('needs a body after a private key header and JSON with alg in a JWT header', () => {
    expect(scanText("const h = '-----BEGIN PRIVATE KEY-----';", 'f')).toEqual([]);
    expect(scanText(`-----BEGIN OPENSSH PRIVATE KEY-----\n${'b'.repeat(70)}\n`, 'f').map((f) => f.masked)).toEqual(['-----BEGIN OPENSSH PRIVATE KEY-----']);
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(scanText(`${part({ alg: 'HS256' })}.${part({ sub: 'x' })}.abc`, 'f')[0]).toMatchObject({ kind: 'jwt', detail: 'alg HS256', masked: 'eyJ….abc' });
    expect(scanText(`${part({ typ: 'JWT' })}.${part({ sub: 'x' })}.abc`, 'f')).toEqual([]);
  });

  it('finds a JWT whose header and payload JSON have spaces or new lines (eyAi…, ewog…), which jose accepts', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const [header, payload] of [['{ "alg": "HS256", "typ": "JWT" }', '{ "sub": "u1" }'], ['{\n  "alg": "ES256"\n}', '{\n  "sub": "u1"\n}'], ['{ "alg": "RS256" }', '{"sub":"u1"}']]) {
      const found = scanText(`TOKEN=${b64(header!)}.${b64(payload!)}.${'s'.repeat(43)}\n`, 'f');
      expect([header, found.map((f) => [f.kind, f.detail])]).toEqual([header, [['jwt', `alg ${JSON.parse(header!).alg}`]]]);
    }
    expect(scanText('eyes.eyebrows.new review.ewes.view', 'f')).toEqual([]);
  });

  it('masks: a visible prefix and, for long values, the last four characters', () => {
    expect(mask('sk_live_' + 'a'.repeat(20) + 'WXYZ', 8)).toBe('sk_live_…WXYZ');
    expect(mask('AIza123', 4)).toBe('AIza…');
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream & { isTTY: boolean } };
  };

  it('draws on a TTY for large trees only, throttled, and clears the line', () => {
    let t = 0;
    const tty = sink(true);
    const p = createProgress(tty.stream, 1000, () => t);
    for (let i = 0; i < 1000; i++) {
      t += 1;
      p.tick(i);
    }
    p.done();
    expect(tty.chunks.length).toBe(11);
    expect(tty.chunks[0]).toBe('\r\x1b[2Kscanning 100/1000 files (10%)');
    expect(tty.chunks.at(-1)).toBe('\r\x1b[2K');
    const pipe = sink(false);
    const q = createProgress(pipe.stream, 1000, () => (t += 1000));
    q.tick(0);
    q.done();
    expect(pipe.chunks).toEqual([]);
    const small = sink(true);
    createProgress(small.stream, 10).tick(0);
    expect(small.chunks).toEqual([]);
  });
});
