import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// `pnpm test:faults`: the battery of docs/reliability.md at full size (Q_FAULTS=full), one scenario at a time so
// that the figures are not skewed by each other. The same files run shortened in `npm test`.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['packages/reliability/test/**/*.test.ts'],
    env: { Q_FAULTS: 'full' },
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 120_000,
  },
});
