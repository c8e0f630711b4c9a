import { describe, expect, it } from 'vitest';
import { resolveConnection, scrubSecrets } from './connection-options';
import { CliError } from './exit-codes';

describe('resolveConnection', () => {
  it('defaults to the local Redis and Asynq prefix, and reads Q_REDIS_URL', () => {
    expect(resolveConnection({}, {})).toMatchObject({
      url: 'redis://127.0.0.1:6379',
      prefix: 'asynq',
      cluster: false,
    });
    expect(resolveConnection({}, { Q_REDIS_URL: 'redis://cache:6380/2' }).url).toBe('redis://cache:6380/2');
    expect(resolveConnection({ uri: 'redis://flag:1' }, { Q_REDIS_URL: 'redis://env:2' }).url).toBe(
      'redis://flag:1',
    );
  });

  it("accepts Asynq's host:port and applies --db, --username, --password and --tls", () => {
    const connection = resolveConnection(
      { uri: '10.0.0.5:7000', db: '3', username: 'app', password: 'p@ss word', tls: true },
      {},
    );
    expect(connection.url).toBe('rediss://app:p%40ss%20word@10.0.0.5:7000/3');
    expect(connection.displayUrl).toBe('rediss://app:***@10.0.0.5:7000/3');
    expect(connection.secrets).toContain('p@ss word');
  });

  it('takes the password from Q_REDIS_PASSWORD so that it stays out of the process list', () => {
    const connection = resolveConnection({ uri: 'redis://h:1' }, { Q_REDIS_PASSWORD: 'hidden' });
    expect(connection.url).toBe('redis://:hidden@h:1');
    expect(connection.displayUrl).not.toContain('hidden');
  });

  it('lists cluster seeds and refuses several addresses without --cluster', () => {
    expect(resolveConnection({ uri: 'a:7000,b:7001', cluster: true }, {}).clusterNodes).toEqual([
      'redis://a:7000',
      'redis://b:7001',
    ]);
    expect(() => resolveConnection({ uri: 'a:7000,b:7001' }, {})).toThrow(/add --cluster/);
  });

  it('explains bad values with a usage error', () => {
    expect(() => resolveConnection({ db: 'x' }, {})).toThrow(CliError);
    expect(() => resolveConnection({ uri: 'http://h:1' }, {})).toThrow(/Unsupported scheme/);
    expect(() => resolveConnection({ prefix: 'a b' }, {})).toThrow(/--prefix/);
    try {
      resolveConnection({ uri: 'redis://user:secret@[bad' }, {});
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

describe('scrubSecrets', () => {
  it('hides secrets, URL-encoded or not, and passwords in URLs', () => {
    expect(scrubSecrets('auth p@ss failed for p%40ss', ['p@ss'])).toBe('auth *** failed for ***');
    expect(scrubSecrets('redis://u:whatever@h:1', [])).toBe('redis://u:***@h:1');
  });
});
