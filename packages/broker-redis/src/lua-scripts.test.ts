import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { luaScripts } from './lua-scripts.generated';

const packageDirectory = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('Lua scripts', () => {
  it('are embedded as they are in lua/ (run `pnpm generate:lua` after editing one)', () => {
    expect(() =>
      execFileSync(process.execPath, [join(packageDirectory, 'scripts', 'generate-lua.mjs'), '--check'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
    const files = readdirSync(join(packageDirectory, 'lua')).filter((name) => name.endsWith('.lua'));
    expect(Object.keys(luaScripts).sort()).toEqual(files.map((name) => name.slice(0, -4)).sort());
  });

  for (const [name, text] of Object.entries(luaScripts)) {
    it(`${name} opens with a header naming itself and documenting KEYS, ARGV and the return value`, () => {
      const header = text.split('\n').filter((line) => line.startsWith('--'));
      expect(header[0]).toMatch(new RegExp(`^-- ${name}( \\(@q\\))?: `));
      expect(header.some((line) => /^-- KEYS(\[1\]|\s)/.test(line))).toBe(true);
      expect(header.some((line) => /^-- Returns /.test(line))).toBe(true);
      // Every KEYS[n] and ARGV[n] the body uses is documented.
      const body = text
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n');
      for (const used of new Set(body.match(/(KEYS|ARGV)\[\d+\]/g) ?? [])) {
        const documented =
          header.some((line) => line.startsWith(`-- ${used}`)) || /\.\.\]/.test(header.join());
        expect(documented, `${name} uses ${used} without documenting it`).toBe(true);
      }
    });
  }
});
