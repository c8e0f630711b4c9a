// The global test setup (test/global-setup.ts at the repository root) provides this; repeated here so that
// this package's own type check knows it.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
