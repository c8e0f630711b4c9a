/**
 * Readers for the Asynq fixtures: the keys Go Asynq wrote for known operations, kept as JSON in
 * `packages/broker-redis/test/fixtures/` (values as text or base64). Shared by the Redis broker's tests
 * and the dashboard's, so that no package's tests import another package's files.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type FixtureValue = { text: string } | { base64: string };

export interface FixtureKey {
  type: 'string' | 'list' | 'set' | 'zset' | 'hash';
  ttl: number;
  value: unknown;
}

export type Fixture = Record<string, FixtureKey>;

const fixturesDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'packages',
  'broker-redis',
  'test',
  'fixtures',
);

export function readFixture(version: 'asynq-v0.24.1' | 'asynq-v0.26.0', name: string): Fixture {
  return JSON.parse(readFileSync(join(fixturesDirectory, version, `${name}.json`), 'utf8')) as Fixture;
}

export function fixtureBytes(value: unknown): Uint8Array {
  const record = value as Partial<Record<'text' | 'base64', string>>;
  if (record.base64 !== undefined) return new Uint8Array(Buffer.from(record.base64, 'base64'));
  return new TextEncoder().encode(record.text ?? '');
}
