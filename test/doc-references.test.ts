/**
 * Every file a README, doc, comment or test points a reader to must be in the repository: relative
 * Markdown links resolve, `docs/….md` mentions name a file of `docs/`, and nothing names the project's
 * specification files, which a reader of the repository does not have.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const skippedDirectories = new Set([
  'node_modules',
  'dist',
  '.turbo',
  '.git',
  '.data',
  'coverage',
  'results',
]);
const textExtensions = /\.(md|ts|mts|js|mjs|cjs|json|lua|proto|ya?ml)$/;
const thisFile = relative(root, fileURLToPath(import.meta.url));

function repositoryFiles(directory = root): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return skippedDirectories.has(entry.name) ? [] : repositoryFiles(path);
    return textExtensions.test(entry.name) && entry.name !== 'pnpm-lock.yaml' ? [relative(root, path)] : [];
  });
}

const files = repositoryFiles();
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('references to files', () => {
  it('finds the repository files to check', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/protocol.md', 'docs/reliability.md']));
  });

  it('never names a specification file that is not in the repository', () => {
    // Built from parts so that this file does not name them itself.
    const specNames = new RegExp(`\\b(?:${['RELIABILITY', 'PROTOCOL', 'API', 'STYLE'].join('|')})\\.md\\b`);
    const offenders = files.filter((file) => file !== thisFile && specNames.test(read(file)));
    expect(offenders).toEqual([]);
  });

  it('resolves every relative Markdown link to a file or folder of the repository', () => {
    const broken: string[] = [];
    for (const file of files.filter((name) => name.endsWith('.md'))) {
      for (const [, target] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(?:[a-z]+:|#)/i.test(target!)) continue;
        const path = target!.split('#')[0]!;
        if (!existsSync(resolve(root, dirname(file), path))) broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names only docs that exist when a file mentions docs/….md', () => {
    const missing: string[] = [];
    for (const file of files) {
      for (const [mention] of read(file).matchAll(/\bdocs\/[\w.-]+\.md\b/g)) {
        if (!existsSync(join(root, mention))) missing.push(`${file} -> ${mention}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
