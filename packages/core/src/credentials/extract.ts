import type { AuthRequest, DenialCode } from '../model';

/** Where a credential came from. */
export type CredentialSource = 'header' | 'authorization' | 'query';

/** A credential found in a request. Never logged. */
export interface Credential {
  readonly source: CredentialSource;
  /** Authorization scheme as configured (e.g. `Bearer`), for `authorization`. */
  readonly scheme?: string;
  readonly value: string;
}

/** How credentials are looked for. */
export interface ExtractionConfig {
  /** Lower-case API key header name, or `false` to ignore it. */
  readonly header: string | false;
  /** Lower-case Authorization schemes accepted (default `['bearer']`). */
  readonly schemes: readonly string[];
  /** Query parameter name when query credentials are enabled. */
  readonly queryParam: string | false;
  /** Longest credential accepted (bytes). */
  readonly maxLength: number;
}

/** The outcome of extraction: a credential, or the denial code to answer with. */
export type Extraction = { readonly credential: Credential } | { readonly code: DenialCode; readonly detail: string };

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

function single(value: string | readonly string[] | undefined): string | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value.length === 0) return undefined;
  return value.length === 1 ? value[0]! : null; // null: repeated
}

function queryValues(query: string, name: string): string[] {
  const out: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    let key = k;
    try {
      key = decodeURIComponent(k.replace(/\+/g, ' '));
    } catch {
      continue;
    }
    if (key !== name) continue;
    let v = eq === -1 ? '' : part.slice(eq + 1);
    try {
      v = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      v = '\u0000'; // undecodable: invalid, never matched
    }
    out.push(v);
  }
  return out;
}

/**
 * Finds the one credential of a request. Refuses repeated headers, two different credentials, empty values,
 * over-long values, and anything but visible ASCII. Never throws.
 */
export function extractCredential(request: AuthRequest, config: ExtractionConfig): Extraction {
  // The first credential found, and whether a later one differed (no array, no closure: this runs on every request).
  let first: Credential | undefined;
  let conflict = false;

  if (config.header !== false) {
    const v = single(request.headers[config.header]);
    if (v === null) return { code: 'CREDENTIALS_AMBIGUOUS', detail: `The ${config.header} header was sent more than once.` };
    if (v !== undefined) first = { source: 'header', value: v.trim() };
  }

  const auth = single(request.headers['authorization']);
  if (auth === null) return { code: 'CREDENTIALS_AMBIGUOUS', detail: 'The Authorization header was sent more than once.' };
  if (auth !== undefined) {
    const trimmed = auth.trim();
    const sp = trimmed.search(/\s/);
    const scheme = (sp === -1 ? trimmed : trimmed.slice(0, sp)).toLowerCase();
    if (config.schemes.includes(scheme)) {
      const value = sp === -1 ? '' : trimmed.slice(sp + 1).trim();
      if (first === undefined) first = { source: 'authorization', scheme, value };
      else if (value !== first.value) conflict = true;
    }
  }

  if (config.queryParam !== false && request.query) {
    const values = queryValues(request.query, config.queryParam);
    if (values.length > 1) return { code: 'CREDENTIALS_AMBIGUOUS', detail: `The ${config.queryParam} query parameter was sent more than once.` };
    if (values.length === 1) {
      const value = values[0]!.trim();
      if (first === undefined) first = { source: 'query', value };
      else if (value !== first.value) conflict = true;
    }
  }

  if (first === undefined) return { code: 'CREDENTIALS_MISSING', detail: 'No credentials were sent.' };
  if (conflict) return { code: 'CREDENTIALS_AMBIGUOUS', detail: 'More than one credential was sent.' };
  const value = first.value;
  if (value.length === 0) return { code: 'CREDENTIALS_INVALID', detail: 'The credential is empty.' };
  if (value.length > config.maxLength || !VISIBLE_ASCII.test(value)) return { code: 'CREDENTIALS_INVALID', detail: 'The credential is not valid.' };
  return { credential: first };
}
