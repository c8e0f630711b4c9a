// What the vitest global setup provides to every test file (`inject('redisUrl')`).
declare module 'vitest' {
  export interface ProvidedContext {
    /** The test Redis; as a least-privilege ACL user when `Q_TEST_ACL=1`. */
    redisUrl: string;
    /** The same Redis as its default (admin) user, for tests that make faults. */
    redisAdminUrl: string;
    /** Whether `redisUrl` is the least-privilege ACL user (`Q_TEST_ACL=1`). */
    redisAcl: boolean;
  }
}
export {};
