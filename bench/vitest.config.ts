import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// As the root config: read sibling packages' sources through the `@q/source` condition.
const conditions = ['@q/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@q/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
