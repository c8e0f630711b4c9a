import { defineConfig } from 'tsup';
import { clientAssetsDefine } from '../../packages/web/src/client-build';

// The q command ships as one self-contained file: the @q packages are bundled from their sources (the
// `@q/source` condition), so building the CLI needs no other package built first, and every dependency
// is bundled too, so the file runs wherever Node 20 does. The web dashboard's browser app is bundled
// first and embedded, as @q/web's own build does.
export default defineConfig(async () => ({
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: false,
  noExternal: [/.*/],
  esbuildOptions(options) {
    options.conditions = ['@q/source', 'import', 'module', 'default'];
  },
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __qCreateRequire } from 'node:module'; const require = __qCreateRequire(import.meta.url);",
  },
  define: await clientAssetsDefine(),
}));
