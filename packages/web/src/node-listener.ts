/** Mounts a Fetch API handler in Node's `http` (or anything that passes Node requests, like Express). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export type NodeListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * `http.createServer(toNodeListener(handler))`. The request's URL is rebuilt from its `Host` header; a
 * failure of the handler itself answers 500 without a stack trace.
 */
export function toNodeListener(handler: (request: Request) => Promise<Response>): NodeListener {
  return (incoming, outgoing) => {
    respond(handler, incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      outgoing.end('Internal error\n');
    });
  };
}

async function respond(
  handler: (request: Request) => Promise<Response>,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): Promise<void> {
  const encrypted = (incoming.socket as { encrypted?: boolean }).encrypted === true;
  const host = incoming.headers.host ?? 'localhost';
  // Express strips its mount path from `url`; `originalUrl` keeps the full path the dashboard expects.
  const path = (incoming as { originalUrl?: string }).originalUrl ?? incoming.url ?? '/';
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  const method = incoming.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const controller = new AbortController();
  outgoing.once('close', () => controller.abort());
  const request = new Request(new URL(path, `${encrypted ? 'https' : 'http'}://${host}`), {
    method,
    headers,
    signal: controller.signal,
    ...(hasBody ? { body: Readable.toWeb(incoming) as ReadableStream, duplex: 'half' } : {}),
  });
  const response = await handler(request);
  const outHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    outHeaders[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outHeaders['set-cookie'] = cookies;
  outgoing.writeHead(response.status, outHeaders);
  if (!response.body || method === 'HEAD') {
    outgoing.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    Readable.fromWeb(response.body as NodeReadableStream)
      .once('error', reject)
      .pipe(outgoing)
      .once('finish', () => resolve())
      .once('close', () => resolve());
  });
}
