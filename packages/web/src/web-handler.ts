/**
 * The dashboard as a Fetch API handler: `(request: Request) => Promise<Response>`. It serves the page,
 * its script and stylesheet (bundled into this package, nothing from a CDN) and a JSON API over an
 * `Inspector`. Mount it in any server that speaks Fetch (Hono, Next.js, Bun, Deno) or in Node's `http`
 * through `toNodeListener`.
 */
import { QError, silentLogger, ValidationError, type Logger } from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import type { Inspector } from '@q/inspector';
import packageJson from '../package.json';
import { Api, HttpError } from './api';
import type { DashboardConfig, ErrorResponse } from './api-types';
import { clientAssets } from './client-assets';
import { assertAuth, Guard, scrub, securityHeaders, tokenCookie, type WebAuth } from './security';

export interface WebHandlerOptions {
  /** Where the data comes from and where actions go. */
  inspector: Inspector;
  /**
   * The path the dashboard is mounted at, e.g. `/queues-admin`; every URL it serves starts with it.
   * @default ''
   */
  basePath?: string;
  /** Refuse every action (pause, run, archive, delete, cancel) and hide their buttons. @default false */
  readOnly?: boolean;
  /** Ask for HTTP basic auth (`{ username, password }`) or a bearer token (`{ token }`). @default none */
  auth?: WebAuth;
  /**
   * Signs the cross-site request token. Give the same secret to every copy behind one load balancer;
   * each handler otherwise makes its own. @default random
   */
  secret?: string;
  /** Shown in the header and on the Redis page, e.g. a Redis address without its password. */
  source?: string;
  /** Strings never to show (a Redis password): replaced by `***` in every error the API reports. */
  secrets?: string[];
  /** Milliseconds between live refreshes of the open page. @default 2000 */
  refreshInterval?: number;
  /** Bytes of a payload, result or error shown before it is cut (the rest is one click away). @default 2048 */
  previewBytes?: number;
  /**
   * Answer only requests whose `Host` is one of these names (the port is ignored), e.g. `['localhost',
   * '127.0.0.1', '[::1]']` for a dashboard on loopback: a web page whose domain was re-pointed at 127.0.0.1
   * (DNS rebinding) then reads nothing. @default any host
   */
  allowedHosts?: string[];
  /** The page title. @default '@q' */
  title?: string;
  /** Where failures to read the store are reported. @default silentLogger */
  logger?: Logger;
}

export type WebHandler = (request: Request) => Promise<Response>;

const optionKeys = [
  'inspector',
  'basePath',
  'readOnly',
  'auth',
  'secret',
  'source',
  'secrets',
  'refreshInterval',
  'previewBytes',
  'allowedHosts',
  'title',
  'logger',
] as const;

/** Builds the dashboard's handler. Throws a `ValidationError` for options it cannot use. */
export function createWebHandler(options: WebHandlerOptions): WebHandler {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('createWebHandler(options): options must be an object such as { inspector }.');
  }
  assertKnownKeys(options, optionKeys, 'web handler option');
  const inspector = options.inspector as Inspector | undefined;
  if (!inspector || typeof inspector.queues !== 'function' || typeof inspector.diagnose !== 'function') {
    throw new ValidationError(
      'createWebHandler({ inspector }): inspector is required; pass new Inspector({ broker }) from @q/inspector.',
      [{ path: 'inspector', message: 'missing or not an Inspector' }],
    );
  }
  const basePath = normalizeBasePath(options.basePath);
  assertAuth(options.auth);
  const refreshInterval = positiveInteger(options.refreshInterval, 2000, 'refreshInterval');
  const previewBytes = positiveInteger(options.previewBytes, 2048, 'previewBytes');
  const readOnly = options.readOnly === true;
  const secrets = [...(options.secrets ?? [])].filter((secret) => secret !== '');
  const logger = options.logger ?? silentLogger;
  const guard = new Guard(options.auth, options.secret);
  const allowedHosts = readAllowedHosts(options.allowedHosts);
  const title = options.title ?? '@q';
  const config: DashboardConfig = {
    basePath,
    readOnly,
    csrfToken: guard.csrfToken,
    refreshInterval,
    title,
    version: packageJson.version,
  };
  if (options.source !== undefined) config.source = scrub(options.source, secrets);
  const api = new Api({ inspector, previewBytes, source: config.source });

  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (allowedHosts && !allowedHosts.has(url.hostname.toLowerCase())) {
      return text(403, `Refused: this dashboard answers only for ${[...allowedHosts].join(', ')}.`);
    }
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`)) {
      return text(404, `Not found: the dashboard is under ${basePath || '/'}.`);
    }
    const route = path.slice(basePath.length) || '/';

    const fromQuery = guard.tokenFromQuery(url);
    if (fromQuery !== undefined && request.method === 'GET') {
      // Trade the token in the address for a cookie, and take it out of the address bar and history.
      url.searchParams.delete('token');
      const headers = securityHeaders(new Headers({ location: `${url.pathname}${url.search}` }));
      headers.append(
        'set-cookie',
        `${tokenCookie}=${encodeURIComponent(fromQuery)}; Path=${basePath || '/'}; HttpOnly; SameSite=Strict${url.protocol === 'https:' ? '; Secure' : ''}`,
      );
      return new Response(null, { status: 303, headers });
    }
    if (!guard.authenticated(request)) {
      const headers = securityHeaders(new Headers({ 'content-type': 'text/plain; charset=utf-8' }));
      if (!guard.usesToken) headers.set('www-authenticate', 'Basic realm="@q dashboard", charset="UTF-8"');
      const hint = guard.usesToken
        ? 'Open the dashboard with ?token=<token> once, or send Authorization: Bearer <token>.'
        : 'Sign in with the dashboard user and password.';
      return new Response(`Unauthorized. ${hint}\n`, { status: 401, headers });
    }

    try {
      if (route.startsWith('/api/')) {
        const method = request.method.toUpperCase();
        if (method !== 'GET' && method !== 'HEAD') {
          if (!guard.sameSiteAction(request)) {
            return json(403, {
              error:
                'Refused: actions must come from the dashboard page itself (missing or wrong x-q-csrf token, or a cross-site request).',
              code: 'csrf',
            } satisfies ErrorResponse);
          }
          if (readOnly) {
            return json(403, {
              error: 'Refused: the dashboard is read-only; it shows queues but changes nothing.',
              code: 'read-only',
            } satisfies ErrorResponse);
          }
        }
        const answer = await api.handle(request, route.slice('/api'.length), url.searchParams);
        if (answer instanceof Response) return withSecurity(answer);
        return json(200, answer);
      }
      if (route.startsWith('/assets/')) return await asset(route);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return text(405, 'Method not allowed: pages are read with GET.');
      }
      return await page(config);
    } catch (error) {
      if (error instanceof HttpError) {
        return json(error.status, { error: scrub(error.message, secrets), code: error.code });
      }
      const status = statusOf(error);
      const message = scrub(error instanceof Error ? error.message : String(error), secrets);
      if (status >= 500) logger.error({ error: message, path: route }, 'web dashboard: request failed');
      return json(status, { error: message, code: QError.is(error) ? error.code : 'internal' });
    }
  };
}

function statusOf(error: unknown): number {
  if (!QError.is(error)) return 500;
  switch (error.code) {
    case 'Q_VALIDATION':
      return 400;
    case 'Q_QUEUE_NOT_FOUND':
    case 'Q_TASK_NOT_FOUND':
      return 404;
    case 'Q_QUEUE_NOT_EMPTY':
    case 'Q_TASK_STATE':
      return 409;
    case 'Q_BROKER_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}

async function asset(route: string): Promise<Response> {
  const assets = await clientAssets();
  const match = /^\/assets\/app\.([0-9a-f]+)\.(js|css)$/.exec(route);
  if (!match) return text(404, 'No such asset.');
  const [, hash, kind] = match;
  const body = kind === 'js' ? assets.js : assets.css;
  const expected = kind === 'js' ? assets.jsHash : assets.cssHash;
  const headers = securityHeaders(
    new Headers({
      'content-type': kind === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      // The hash changes with the content: an old URL still answers the current file, never cached long.
      'cache-control': hash === expected ? 'public, max-age=31536000, immutable' : 'no-cache',
    }),
  );
  return new Response(body, { status: 200, headers });
}

async function page(config: DashboardConfig): Promise<Response> {
  const assets = await clientAssets();
  const base = config.basePath;
  // JSON inside <script type="application/json"> is data, never run; `<` is escaped so that no string can
  // close the element.
  const data = JSON.stringify(config).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(config.title)}</title>
<link rel="stylesheet" href="${escapeHtml(`${base}/assets/app.${assets.cssHash}.css`)}">
<script id="q-config" type="application/json">${data}</script>
<script defer src="${escapeHtml(`${base}/assets/app.${assets.jsHash}.js`)}"></script>
</head>
<body>
<div id="app"><noscript>The @q dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
  const headers = securityHeaders(
    new Headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  return new Response(html, { status: 200, headers });
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (character) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] ?? character,
  );
}

function json(status: number, body: unknown): Response {
  const headers = securityHeaders(
    new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }),
  );
  return new Response(JSON.stringify(body), { status, headers });
}

function text(status: number, body: string): Response {
  const headers = securityHeaders(new Headers({ 'content-type': 'text/plain; charset=utf-8' }));
  return new Response(`${body}\n`, { status, headers });
}

function withSecurity(response: Response): Response {
  securityHeaders(response.headers);
  return response;
}

function normalizeBasePath(basePath: unknown): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !basePath.startsWith('/') || /[?#\s]/.test(basePath)) {
    throw new ValidationError(
      `createWebHandler({ basePath }): basePath must be a path starting with "/", such as "/queues", got ${JSON.stringify(basePath)}.`,
      [{ path: 'basePath', message: 'not a path' }],
    );
  }
  return basePath.replace(/\/+$/, '');
}

/** Loopback names: what `q web` and the demo answer for when they listen on loopback. */
export const loopbackHosts: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

function readAllowedHosts(hosts: unknown): Set<string> | undefined {
  if (hosts === undefined) return undefined;
  if (
    !Array.isArray(hosts) ||
    hosts.length === 0 ||
    !hosts.every((host) => typeof host === 'string' && host !== '')
  ) {
    throw new ValidationError(
      'createWebHandler({ allowedHosts }): allowedHosts must be a non-empty list of host names, such as ["localhost", "127.0.0.1"].',
      [{ path: 'allowedHosts', message: 'not a non-empty list of names' }],
    );
  }
  return new Set(hosts.map((host: string) => host.toLowerCase()));
}

function positiveInteger(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(
      `createWebHandler({ ${name} }): ${name} must be a positive whole number, got ${JSON.stringify(value)}.`,
      [{ path: name, message: 'not a positive integer' }],
    );
  }
  return value;
}
