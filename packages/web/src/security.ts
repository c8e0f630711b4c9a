/** Authentication, cross-site request protection and the headers every response carries. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '@q/core';

/** Who may open the dashboard: HTTP basic auth, or a bearer token. */
export type WebAuth = { username: string; password: string } | { token: string };

export const tokenCookie = 'q_web_token';
export const csrfHeader = 'x-q-csrf';

export function assertAuth(auth: unknown): asserts auth is WebAuth | undefined {
  if (auth === undefined) return;
  const record = auth as Record<string, unknown> | null;
  const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value !== '';
  if (typeof record === 'object' && record !== null) {
    if ('token' in record && nonEmpty(record.token) && !('password' in record)) return;
    if (nonEmpty(record.username) && nonEmpty(record.password) && !('token' in record)) return;
  }
  throw new ValidationError(
    'createWebHandler({ auth }): auth must be { username, password } (basic auth) or { token }, with non-empty strings.',
    [{ path: 'auth', message: 'not { username, password } nor { token }' }],
  );
}

/** Compares two secrets in constant time (their HMACs have the same length whatever the inputs). */
function sameSecret(given: string, expected: string, key: Buffer): boolean {
  const digest = (value: string): Buffer => createHmac('sha256', key).update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export class Guard {
  readonly #auth: WebAuth | undefined;
  readonly #key = randomBytes(32);
  /** The token pages send with every action; unreadable from other sites. */
  readonly csrfToken: string;

  constructor(auth: WebAuth | undefined, secret: string | undefined) {
    this.#auth = auth;
    const csrfKey = secret === undefined ? this.#key : Buffer.from(secret);
    this.csrfToken = createHmac('sha256', csrfKey).update('q-web csrf').digest('base64url');
  }

  get usesToken(): boolean {
    return this.#auth !== undefined && 'token' in this.#auth;
  }

  /** Whether the request carries the credentials asked for (always true without `auth`). */
  authenticated(request: Request): boolean {
    const auth = this.#auth;
    if (!auth) return true;
    const header = request.headers.get('authorization') ?? '';
    if ('token' in auth) {
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      const cookie = readCookie(request.headers.get('cookie'), tokenCookie);
      const given = bearer ?? cookie;
      return given !== undefined && sameSecret(given, auth.token, this.#key);
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
    if (!basic) return false;
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Evaluate both comparisons: no early exit that tells which half was wrong.
    const userOk = sameSecret(decoded.slice(0, colon), auth.username, this.#key);
    const passwordOk = sameSecret(decoded.slice(colon + 1), auth.password, this.#key);
    return userOk && passwordOk;
  }

  /** A `?token=` in the URL that matches: the page then sets a cookie and drops it from the address. */
  tokenFromQuery(url: URL): string | undefined {
    const auth = this.#auth;
    const given = url.searchParams.get('token');
    if (!auth || !('token' in auth) || given === null) return undefined;
    return sameSecret(given, auth.token, this.#key) ? given : undefined;
  }

  /**
   * Whether a state-changing request comes from the dashboard's own pages: it must carry the page's token
   * in a header (which a cross-site form or image cannot set) and, when the browser says, be same-origin.
   */
  sameSiteAction(request: Request): boolean {
    const site = request.headers.get('sec-fetch-site');
    if (site !== null && site !== 'same-origin' && site !== 'none') return false;
    const given = request.headers.get(csrfHeader);
    return given !== null && sameSecret(given, this.csrfToken, this.#key);
  }
}

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Headers on every response: no framing, no sniffing, scripts and styles from the handler only. */
export function securityHeaders(headers: Headers): Headers {
  headers.set(
    'content-security-policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
  headers.set('x-content-type-options', 'nosniff');
  headers.set('x-frame-options', 'DENY');
  headers.set('referrer-policy', 'no-referrer');
  headers.set('cross-origin-opener-policy', 'same-origin');
  headers.set('cross-origin-resource-policy', 'same-origin');
  return headers;
}

/** Replaces each secret, and any password in a `scheme://user:password@` address, by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text.replace(/(\w+:\/\/[^:/@\s]*):[^@/\s]*@/g, '$1:***@');
  for (const secret of secrets) if (secret) result = result.split(secret).join('***');
  return result;
}
