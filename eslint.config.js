// Lint rules for syncline: typescript-eslint's type-aware recommended set, with Prettier owning layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'syncline-demo/',
      '.syncline/',
      '.stryker-tmp/',
      'reports/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSInterfaceDeclaration',
          message: 'Derive types from io-ts codecs (t.TypeOf) or use a type alias.',
        },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // node:crypto stays allowed: command ids are SHA-1 based, and hashing does no I/O.
              group: ['../projections/*', '../engine/*', '../adapters/*', 'node:*', '!node:crypto'],
              message: 'domain/ is pure: it imports nothing of ours and does no I/O.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['projections/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../engine/*', '../adapters/*', 'node:*'],
              message: 'projections/ fold domain events into their state (in place) and import only domain/.',
            },
          ],
        },
      ],
    },
  },
  // Inside engine/, jobs depend on state/ (and the ports) but not on one another; audit reuses the sync
  // path's batch code to recompute what a run decided.
  ...[
    { folder: 'state', others: ['sync', 'audit', 'input'] },
    { folder: 'sync', others: ['audit', 'input'] },
    { folder: 'input', others: ['sync', 'audit'] },
    { folder: 'audit', others: ['input'] },
  ].map(({ folder, others }) => ({
    files: [`engine/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...others.map((o) => `../${o}/*`), '../../adapters/*'],
              message: `engine/${folder}/ does not depend on engine/${others.join('/, engine/')}/ or adapters/.`,
            },
          ],
        },
      ],
    },
  })),
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
