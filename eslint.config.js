import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import of another package's files: `../other/src/x`, `../../packages/other/test/y`, `@q/other/src/z`. */
const reachingIntoAPackage = {
  regex: '^(?:(?:\\.\\./)+(?:packages/|apps/)?[^./][^/]*|@q/[^/]+)/(?:src|test|dist)(?:/|$)',
  message:
    "Import another package through its entry (`@q/name`), not its files; shared test helpers live in the root's test/.",
};

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/gen/**',
      '**/*.generated.ts',
      'coverage/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-params': ['error', 4],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
  // Package boundaries: a package's code and tests use other packages through their entries only, never
  // their files; apps use the public entries only (`@q/core/internal` is for the @q packages). Build
  // configs (the CLI embeds the dashboard's browser app) and the benchmarks (they time internal
  // functions such as the TaskMessage codec; private, never published) are left out.
  {
    files: ['packages/*/{src,test}/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: [reachingIntoAPackage] }] },
  },
  {
    files: ['apps/*/{src,test}/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            reachingIntoAPackage,
            {
              regex: '^@q/[^/]+/internal$',
              message:
                'Apps use the public entries of the @q packages; `/internal` is for the packages themselves.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
      parserOptions: { projectService: false, project: null },
    },
  },
);
