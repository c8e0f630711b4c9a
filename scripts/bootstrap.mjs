// Makes `npm start` and `npm test` work on a fresh machine that has only Node 20 and npm:
// installs the workspace with the pinned pnpm when node_modules is missing or stale.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const pnpmVersion = '10.34.9';
const lockfile = 'pnpm-lock.yaml';
const marker = 'node_modules/.modules.yaml';

const stale =
  !existsSync(marker) || (existsSync(lockfile) && statSync(lockfile).mtimeMs > statSync(marker).mtimeMs);
if (stale) {
  console.log(`Installing dependencies with pnpm ${pnpmVersion}...`);
  execFileSync('npx', ['--yes', `pnpm@${pnpmVersion}`, 'install', '--frozen-lockfile'], { stdio: 'inherit' });
}
