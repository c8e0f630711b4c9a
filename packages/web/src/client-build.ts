/**
 * Bundles the browser app (src/client) with esbuild: one script and one stylesheet, Preact and uPlot
 * included, so the dashboard needs nothing from the network. The package build embeds the result in
 * dist (see tsup.config.ts); running from the sources, the handler calls this on first use.
 */
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ClientAssets {
  js: string;
  css: string;
}

/** The name the package build replaces with the bundled assets. */
export const assetsDefineName = 'Q_WEB_CLIENT_ASSETS';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildClientAssets(options: { minify?: boolean } = {}): Promise<ClientAssets> {
  // esbuild is resolved from this package, whichever package's build loads this file.
  const esbuildPath = createRequire(join(packageRoot, 'package.json')).resolve('esbuild');
  const esbuild = (await import(pathToFileURL(esbuildPath).href)) as typeof Esbuild;
  const result = await esbuild.build({
    entryPoints: [join(packageRoot, 'src', 'client', 'main.tsx')],
    absWorkingDir: packageRoot,
    bundle: true,
    write: false,
    outdir: 'assets',
    format: 'iife',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options.minify ?? true,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const output = (extension: string): string => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (!file) throw new Error(`The dashboard's bundle has no ${extension} output.`);
    return file.text;
  };
  return { js: output('.js'), css: output('.css') };
}

/** For a bundler's `define`: makes `Q_WEB_CLIENT_ASSETS` the built assets. */
export async function clientAssetsDefine(): Promise<Record<string, string>> {
  return { [assetsDefineName]: JSON.stringify(await buildClientAssets()) };
}
