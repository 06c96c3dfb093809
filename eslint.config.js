// ESLint: typescript-eslint's type-checked rules over the TypeScript (tests included), the
// recommended JavaScript rules over the shipped programs and the scripts. Formatting is Prettier's
// (eslint-config-prettier turns the overlapping rules off); the import direction between layers
// is dependency-cruiser's (.dependency-cruiser.cjs). `npm run lint` runs all three.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'cdktf.out/',
      'k8s.out/',
      'pulumi.out/',
      'workshop.out/',
      '.labforge/',
      '.gen/',
      'tests/emulator/fixtures/',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // An empty function or catch block must say why in a comment (the rules accept a comment as the body).
      '@typescript-eslint/no-empty-function': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An async function that implements a promise-returning interface need not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read what the CLI prints as JSON, and Kubernetes or Terraform documents, as untyped
    // data on purpose: their assertions are the type check.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  prettier,
);
