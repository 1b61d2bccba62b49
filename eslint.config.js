// ESLint (flat config): typescript-eslint's strict, type-aware rule sets over src/, test/ and bench/.
// Formatting is Prettier's job (.prettierrc.json); no rule here is about layout.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'coverage/', 'node_modules/', 'bench/results/', 'schema/playbook.validate.cjs', 'test/fixtures/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // tsconfig's noUncheckedIndexedAccess types every `arr[i]`, `map.get(k)` after `has(k)` and regex
      // group as possibly undefined; `!` after a bounds check is how this code says "checked". Without
      // the `!` the same places would grow `?? ''` defaults that hide a real bug instead of throwing.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // The code's convention: `string[]` for simple element types, `Array<{ ... }>` for the rest.
      '@typescript-eslint/array-type': ['error', { default: 'array-simple' }],
      // `(x) => emit(x)` callbacks whose value nobody reads are everywhere (event handlers, promise
      // plumbing); the autofix would turn each into a block. Void in other positions is still an error.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `.catch(() => {})` and `.on('error', () => {})` are the deliberate "this failure is handled
      // elsewhere" idiom (a stop, a close). Empty methods and functions are still reported.
      '@typescript-eslint/no-empty-function': ['error', { allow: ['arrowFunctions'] }],
      // An `async` method that awaits nothing still turns a throw into a rejection, which is what an
      // interface returning Promise<void> promises its callers; the rule's fix (Promise.resolve) loses that.
      '@typescript-eslint/require-await': 'off',
      // `const never: never = x; void never;` is the exhaustiveness idiom in `default:` branches
      // (noUnusedLocals needs the `void`); the rule's autofix would leave a bare `never;` statement.
      '@typescript-eslint/no-meaningless-void-operator': 'off',
      // Step kinds, events and transports are discriminated unions; a switch over one must handle
      // every member (or say `default:` on purpose).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Template literals with numbers, booleans and nullish values are how messages are built here
      // (`${n} hosts`, `exit ${code}`); the rule would ask for String(n) everywhere. Objects and
      // arrays stay errors: they print as "[object Object]" or comma lists by accident.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowRegExp: true },
      ],
      // Unused variables are already a compile error (tsconfig noUnusedLocals); an `_` prefix marks
      // a parameter a callback signature forces on us.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Plain JavaScript (bench, example callables, the bin shim, this file): no type information,
    // so only the rules that need none.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { ...globals.node },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
