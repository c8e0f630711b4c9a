/** Reads the dashboard's JSON API and sends actions with the page's cross-site request token. */
import type { ActionResponse, ErrorResponse } from '../api-types';
import { config } from './config';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function read<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => undefined)) as T | ErrorResponse | undefined;
  if (!response.ok) {
    const message =
      body && typeof body === 'object' && 'error' in body
        ? body.error
        : `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body as T;
}

export const apiPath = (path: string): string => `${config.basePath}/api${path}`;

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return read<T>(
    await fetch(apiPath(path), { headers: { accept: 'application/json' }, signal: signal ?? null }),
  );
}

export async function act(path: string, body?: unknown): Promise<ActionResponse> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-q-csrf': config.csrfToken };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(apiPath(path), {
    method: 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return read<ActionResponse>(response);
}
