// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Lint for the whole repository: ESLint's and typescript-eslint's
 * recommended rules with type information (a floating promise in a server
 * is a crash or a lost error), Prettier owning the layout.
 */
export default tseslint.config(
  { ignores: ['dist/', 'build-test/', 'build-bench/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // An async method without an await is how an interface's promise is kept, a throw becoming a rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Scripts outside the TypeScript projects: the browser phone's page (SIP.js, untyped, in Chromium) and CI's CommonJS helper.
    files: ['test/support/browser-phone/**/*.js', '.ci/**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  { files: ['test/support/browser-phone/**/*.js'], languageOptions: { globals: globals.browser } },
  {
    files: ['.ci/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
