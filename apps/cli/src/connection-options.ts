import { CliError, exitCodes } from './exit-codes';

/** The global flags that say where Redis is. */
export interface ConnectionFlags {
  uri?: string;
  db?: string;
  password?: string;
  username?: string;
  cluster?: boolean;
  tls?: boolean;
  /** Skip certificate verification (a self-signed certificate). */
  insecure?: boolean;
  /** The server name to verify the certificate against, when it differs from the host. */
  tlsServer?: string;
  prefix?: string;
}

export interface Connection {
  /** The URL to connect with, credentials included. Never print it: print `displayUrl`. */
  url: string;
  /** The URL with the password replaced by `***`. */
  displayUrl: string;
  /** Cluster seed nodes as `redis://host:port` URLs, when `--cluster`. */
  clusterNodes: string[];
  cluster: boolean;
  /** The key prefix; `asynq` is Asynq's and the only one Go Asynq reads. */
  prefix: string;
  /** TLS options beyond the URL's `rediss:` (Node's `tls.connect` options). */
  tls?: { rejectUnauthorized?: boolean; servername?: string };
  /** Secrets to scrub from any message before it is printed. */
  secrets: string[];
}

export const defaultRedisUrl = 'redis://127.0.0.1:6379';
export const defaultPrefix = 'asynq';

/**
 * Works out the Redis URL from the flags, then `Q_REDIS_URL`, then the default. Accepts Asynq's
 * `host:port` form as well as URLs; `--db`, `--username`, `--password` and `--tls` override the URL's
 * parts. `Q_REDIS_PASSWORD` supplies a password that should not appear in the process list.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
): Connection {
  const given = flags.uri ?? env.Q_REDIS_URL ?? defaultRedisUrl;
  const seeds = given
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (seeds.length === 0)
    throw new CliError('--uri is empty; pass redis://host:port or host:port.', exitCodes.usage);
  if (seeds.length > 1 && !flags.cluster) {
    throw new CliError(
      '--uri lists several addresses; add --cluster to connect to a Redis Cluster.',
      exitCodes.usage,
    );
  }
  const urls = seeds.map((seed) => parseUrl(seed, flags.tls ?? false));
  const password = flags.password ?? env.Q_REDIS_PASSWORD;
  for (const url of urls) {
    if (flags.tls) url.protocol = 'rediss:';
    if (flags.username !== undefined) url.username = encodeURIComponent(flags.username);
    if (password !== undefined) url.password = encodeURIComponent(password);
    if (flags.db !== undefined) url.pathname = `/${parseDatabase(flags.db)}`;
  }
  if (flags.cluster && urls.some((url) => url.pathname.length > 1 && url.pathname !== '/0')) {
    throw new CliError('A Redis Cluster has only database 0; drop --db.', exitCodes.usage);
  }
  const prefix = flags.prefix ?? defaultPrefix;
  if (prefix.trim() === '' || /[{}\s]/.test(prefix)) {
    throw new CliError(
      `--prefix "${prefix}" cannot be used: it must be non-empty, without spaces or braces.`,
      exitCodes.usage,
    );
  }
  const secrets = [password, ...urls.map((url) => decodeURIComponent(url.password))].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
  const first = urls[0]!;
  const useTls = first.protocol === 'rediss:';
  if ((flags.insecure || flags.tlsServer) && !useTls) {
    throw new CliError(
      '--insecure and --tls_server need TLS: add --tls or use a rediss:// URL.',
      exitCodes.usage,
    );
  }
  const tls: NonNullable<Connection['tls']> = {};
  if (flags.insecure) tls.rejectUnauthorized = false;
  if (flags.tlsServer) tls.servername = flags.tlsServer;
  return {
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
    url: first.toString(),
    displayUrl: urls.map(redact).join(','),
    clusterNodes: flags.cluster ? urls.map((url) => url.toString()) : [],
    cluster: flags.cluster ?? false,
    prefix,
    secrets: [...new Set(secrets)],
  };
}

function parseUrl(text: string, tls: boolean): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${tls ? 'rediss' : 'redis'}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(
      `"${redactText(text)}" is not a Redis address; use redis://host:port, rediss://host:port or host:port.`,
      exitCodes.usage,
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new CliError(
      `Unsupported scheme "${url.protocol}"; use redis:// or rediss:// (TLS).`,
      exitCodes.usage,
    );
  }
  if (!url.port) url.port = '6379';
  return url;
}

function parseDatabase(text: string): number {
  const database = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(database)) {
    throw new CliError(`--db must be a database number such as 0 or 3, got "${text}".`, exitCodes.usage);
  }
  return database;
}

function redact(url: URL): string {
  const copy = new URL(url.toString());
  if (copy.password) copy.password = '***';
  return copy.toString();
}

/** Hides the password part of something that looks like a URL with credentials. */
function redactText(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** Replaces every secret in `text` by `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of secrets) {
    scrubbed = scrubbed.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) scrubbed = scrubbed.split(encoded).join('***');
  }
  return redactText(scrubbed);
}
