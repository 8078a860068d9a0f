// ESLint flat config: eslint's and typescript-eslint's recommended rules, without type-aware
// rules (they need a full type check, which the build already does, and would make `npm run lint`
// and its jest test several times slower).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import stylistic from '@stylistic/eslint-plugin';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'coverage/',
      'cdk.out/',
      'assets/',
      '**/*.d.ts',
      // tsc output next to its sources (see tsconfig.json); the .ts files are what we lint.
      'lib/**/*.js',
      'lambda/**/*.js',
      'bin/**/*.js',
      'testing/**/*.js',
      'test/**/*.js',
      // Synthesized cloud assemblies committed as integ-runner snapshots.
      'test/**/*.snapshot/',
      '.softhsm/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Format, checked in CI with the rest of the lint (`npm test` runs eslint): the house layout.
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *'] }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
    },
  },
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      // `_`-prefixed parameters and variables are deliberately unused (interface conformance).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // Allowed where tsc allows them: SDK responses and CloudFormation events are loosely typed.
      '@typescript-eslint/no-explicit-any': 'off',
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      // Deliberate lazy requires: the PKCS#11 source's optional native modules, loaded on first
      // use, and lib/pkcs11-material, whose class extends KeyMaterial (an import would be a cycle).
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^pkcs11js$', '^koffi$', '^\\./pkcs11-material$'] }],
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
      // New in eslint 10's recommended set. A warning, not an error, until the places that
      // rethrow with a rewritten message have decided whether the original error may be attached
      // (it could carry request details the handler deliberately keeps out of its failure reason).
      'preserve-caught-error': 'warn',
    },
  },
  {
    // Node scripts and configs written in CommonJS.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const crypto = require('crypto')` is how CommonJS scripts get node's module, even though
      // Node also has a global `crypto` (Web Crypto).
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests assert on values they know are there, and may load a module lazily inside a test.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
