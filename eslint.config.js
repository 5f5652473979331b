// typescript-eslint with type information (recommendedTypeChecked) over the server,
// the tests, the scripts and the bench; `npm run check` runs it (npm run lint).
// Formatting is Prettier's (.prettierrc.json), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'generated/',
      'clients/',
      'dist/',
      'docs/site/',
      'sdk/typescript/dist/',
      'coverage/',
      'test-results/',
      'data/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A package's dist/ internals are not its API (issue 27): matched on the specifier.
      // (Ajv documents ajv/dist/2020 as the entry point of its draft 2020-12 validator.)
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['*/dist/*', '@*/*/dist/*', '!ajv/dist/2020.js'],
              message: "A package's dist/ internals are not its API: use its public entry point.",
            },
          ],
        },
      ],
      // `_name` says "deliberately unused" (destructuring to drop a field, an ignored argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests and the benchmark read JSON answers as data: their shape is what the assertions
    // check, so reading a field of `any` there is the point, not a slip. For the same reason
    // the helpers that hand out such answers untyped (UntypedAnswer in test/support/fixtures.ts,
    // the fuzz answer check, the docs examples' set-up) declare them `any`; typed answers come
    // from the typed client (test/support/api.ts).
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: 'readonly',
        console: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
      },
    },
  },
);
