import { defineConfig } from 'tsup';
import { clientAssetsDefine } from './src/client-build';

// The browser app is bundled first and embedded in dist/index.js: the handler serves it from memory.
export default defineConfig(async () => ({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  define: await clientAssetsDefine(),
}));
