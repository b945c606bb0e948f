import { brotliDecompress, gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';

type Decoder = (input: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

/** The content codings an endpoint decodes, as a framework's body parser (body-parser) does. */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: gunzip,
  deflate: inflate,
  br: brotliDecompress as Decoder,
};

/** The `Accept-Encoding` of a 415 for a coding not decoded (RFC 9110 §15.5.16). */
export const DECODED_CODINGS = 'gzip, deflate, br';

/**
 * Decodes a body read as sent by its `Content-Encoding` (none or `identity`, or an empty body: as it is; `gzip`,
 * `deflate`, `br`, in any case). Never inflates past `limit` bytes, so a small body cannot expand into a large one.
 *
 * @returns the decoded body, or why it cannot be had: `unsupported` (another coding, or several), `too-large`,
 *   `invalid` (bytes that are not what the coding says)
 */
export function decodeContent(body: Buffer, coding: string | undefined, limit: number): Promise<Buffer | 'unsupported' | 'too-large' | 'invalid'> {
  const name = (coding ?? '').trim().toLowerCase();
  // No body is no body in any coding (a GET with a stray Content-Encoding): body parsers skip such a request too.
  if (body.length === 0 || name === '' || name === 'identity') return Promise.resolve(body);
  const decode = Object.hasOwn(DECODERS, name) ? DECODERS[name]! : undefined;
  if (decode === undefined) return Promise.resolve('unsupported');
  return new Promise((resolve) => {
    decode(body, { maxOutputLength: limit }, (error, result) => {
      if (error === null) resolve(result);
      else resolve((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'invalid');
    });
  });
}
