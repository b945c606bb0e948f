import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeContent } from './content-coding';

describe('decodeContent', () => {
  const form = Buffer.from('grant_type=client_credentials');

  it('leaves a body without a coding, or identity, as it is', async () => {
    expect(await decodeContent(form, undefined, 100)).toBe(form);
    expect(await decodeContent(form, ' Identity ', 100)).toBe(form);
  });

  it('leaves an empty body empty, whatever the coding says (a GET with a stray Content-Encoding)', async () => {
    for (const coding of ['gzip', 'br', 'compress']) expect(await decodeContent(Buffer.alloc(0), coding, 100)).toHaveLength(0);
  });

  it('decodes gzip, deflate and br, in any case', async () => {
    expect(String(await decodeContent(gzipSync(form), 'gzip', 100))).toBe(String(form));
    expect(String(await decodeContent(gzipSync(form), 'GZIP', 100))).toBe(String(form));
    expect(String(await decodeContent(deflateSync(form), 'deflate', 100))).toBe(String(form));
    expect(String(await decodeContent(brotliCompressSync(form), 'br', 100))).toBe(String(form));
  });

  it('inflates up to the limit and not a byte past it', async () => {
    expect((await decodeContent(gzipSync(Buffer.alloc(1000, 'a')), 'gzip', 1000)) as Buffer).toHaveLength(1000);
    expect(await decodeContent(gzipSync(Buffer.alloc(1001, 'a')), 'gzip', 1000)).toBe('too-large');
    expect(await decodeContent(brotliCompressSync(Buffer.alloc(1_000_000, 'a')), 'br', 1000)).toBe('too-large');
  });

  it('refuses other codings, several codings, and bytes that are not what the coding says', async () => {
    for (const coding of ['compress', 'zstd', 'gzip, gzip', 'x-gzip', '__proto__', 'constructor']) expect(await decodeContent(form, coding, 100)).toBe('unsupported');
    expect(await decodeContent(form, 'gzip', 100)).toBe('invalid');
    expect(await decodeContent(deflateRawSync(form), 'deflate', 100)).toBe('invalid');
  });
});
