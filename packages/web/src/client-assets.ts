/** The browser app's script and stylesheet: embedded by the package build, or bundled from the sources. */
import { createHash } from 'node:crypto';

export interface ServedAssets {
  js: string;
  css: string;
  /** Content hashes, part of the asset URLs so browsers may cache them forever. */
  jsHash: string;
  cssHash: string;
}

// Replaced by the bundled assets when the package (or a bundle that includes it, like the q command) is
// built; see client-build.ts.
declare const Q_WEB_CLIENT_ASSETS: { js: string; css: string } | undefined;

let loading: Promise<ServedAssets> | undefined;

export function clientAssets(): Promise<ServedAssets> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(): Promise<ServedAssets> {
  const assets = typeof Q_WEB_CLIENT_ASSETS === 'undefined' ? await bundleFromSources() : Q_WEB_CLIENT_ASSETS;
  const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { ...assets, jsHash: hash(assets.js), cssHash: hash(assets.css) };
}

/** Running from the sources (tests, the demo): bundle the app now. The path is kept from bundlers. */
async function bundleFromSources(): Promise<{ js: string; css: string }> {
  const builder = './client-build.ts';
  const module = (await import(/* @vite-ignore */ builder)) as {
    buildClientAssets(options?: { minify?: boolean }): Promise<{ js: string; css: string }>;
  };
  return module.buildClientAssets({ minify: false });
}
