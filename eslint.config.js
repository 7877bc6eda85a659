// ESLint flat config. Besides the recommended rules it enforces DESIGN.md's layering, folder by
// folder, so that "src-shared imports nothing; core never imports electron; the renderer reaches
// main only through window.medrelay" is checked by `npm run lint` rather than remembered.
// test/lint/import-rules.test.ts proves each rule fires (fixtures in test/fixtures/lint/).
//
// no-restricted-imports sees import/export-from (type-only too) and `import x = require()`;
// no-restricted-syntax covers the forms it does not see: require(), import(), import('x').T.
// Both are single rules, so every file gets exactly one block below (the blocks are disjoint)
// and each block lists all of that folder's restrictions.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinModules } from 'node:module';

const TS = '{ts,tsx}';

// ---- Restriction building blocks -----------------------------------------------------------

/** Module specifiers as regex source; `/` is written `[/]` so the same text works in esquery. */
const ELECTRON = '^(electron($|[/-])|@electron[/])';
const builtins = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replaceAll('/', '[/]'));
const NODE_BUILTIN = `^(node:|(${builtins.join('|')})($|[/]))`;
const NOT_RELATIVE = '^(?![.][.]?($|[/]))';
/** A `.` or `..` segment after an ordinary one (`./a/../b`): keeps the escape checks below exact. */
const NOT_NORMAL = '(^|[/])(?![.][.]?($|[/]))[^/]+[/][.][.]?($|[/])';
const RENDERER_PATH = '(^|[/])src-renderer($|[/])';
const MAIN_PATH = '(^|[/])src-main($|[/])';
const TEST_PATH = '(^|[/])test($|[/])';
/** From anywhere in src-main (cli.ts, core/**) into src-main/electron. */
const ELECTRON_FOLDER = '^([.][/]|([.][.][/])+)electron($|[/])';
const CORE_FOLDER = '^([.][/]|([.][.][/])+)core($|[/])';
/** A relative path that climbs more than `depth` folders. */
const climbsAbove = (depth) => `^([.][/])?([.][.][/]){${depth}}[.][.]($|[/])`;

/** One restriction: specifiers matching `regex` are refused with `message`. */
const ban = (regex, message) => ({ regex, message });

const electronBan = ban(ELECTRON, "only src-main/electron/ may import 'electron' (DESIGN.md rule 1)");
const nodeBan = (where) => ban(NODE_BUILTIN, `${where} cannot use Node built-ins`);

/** no-restricted-syntax entries for the import forms no-restricted-imports does not see. */
function importForms({ regex, message }) {
  const re = `/${regex}/`;
  return [
    `CallExpression[callee.name='require'][arguments.0.value=${re}]`,
    `CallExpression[callee.name='require'][arguments.0.quasis.0.value.cooked=${re}]`,
    `ImportExpression[source.value=${re}]`,
    `ImportExpression[source.quasis.0.value.cooked=${re}]`,
    `TSImportType[source.value=${re}]`,
  ].map((selector) => ({ selector, message }));
}

/** The two rules for a folder, from its list of restrictions plus any extra syntax bans. */
function restrict(bans, extraSyntax = []) {
  return {
    'no-restricted-imports': ['error', { patterns: bans.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': ['error', ...bans.flatMap(importForms), ...extraSyntax],
  };
}

// ---- Per-folder restrictions ---------------------------------------------------------------

/** src-shared at a given folder depth: relative imports that stay inside src-shared, nothing else. */
function sharedBans(depth) {
  return [
    ban(NOT_RELATIVE, 'src-shared imports nothing outside itself: no packages, no Node built-ins, no electron'),
    ban(climbsAbove(depth), 'src-shared imports nothing outside itself (this path leaves src-shared)'),
    ban(NOT_NORMAL, 'write relative imports without inner ./ or ../ segments'),
  ];
}
const SHARED_MAX_DEPTH = 3;

/** src-main outside src-main/electron: core/**, cli.ts. */
const mainBans = [
  electronBan,
  ban(ELECTRON_FOLDER, 'core and the CLI must not depend on src-main/electron/ (it imports electron)'),
  ban(RENDERER_PATH, 'main code must not import the renderer'),
  ban(TEST_PATH, 'production code must not import tests'),
];

/** The preload is bundled for a sandboxed renderer: electron, src-shared and its own helpers only. */
const preloadBans = [
  nodeBan('the sandboxed preload'),
  ban(CORE_FOLDER, 'the preload must not pull core (Node code) into the sandboxed renderer'),
  ban(RENDERER_PATH, 'the preload must not import the renderer'),
];

const rendererBans = [
  ban(ELECTRON, "the renderer reaches main only through window.medrelay, never 'electron'"),
  nodeBan('the renderer'),
  ban(MAIN_PATH, 'the renderer reaches main only through window.medrelay (src-renderer/api.ts)'),
  ban(TEST_PATH, 'production code must not import tests'),
];
const rendererSyntax = [
  { selector: "CallExpression[callee.name='require']", message: 'the renderer is bundled ES modules: use import' },
];
const windowMedrelay = ["MemberExpression[property.name='medrelay']", "MemberExpression[property.value='medrelay']"]
  .map((selector) => ({ selector, message: 'only src-renderer/api.ts reads window.medrelay; import from there' }));

// ---- Config --------------------------------------------------------------------------------

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval']
    .map((g) => [g, 'readonly']),
);

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'test/fixtures/lint/**', '.test-tmp/', 'bench/results/']),
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: [`**/*.${TS}`],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },

  // src-shared: one block per folder depth, so "leaves src-shared" can be a plain regex.
  ...Array.from({ length: SHARED_MAX_DEPTH + 1 }, (_, depth) => ({
    files: [`src-shared/${'*/'.repeat(depth)}*.${TS}`],
    rules: {
      ...restrict(sharedBans(depth)),
      // `/// <reference types="node" />` would bring Node's globals into shared code.
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'never', types: 'never', lib: 'never' }],
    },
  })),
  {
    files: [`src-shared/${'*/'.repeat(SHARED_MAX_DEPTH + 1)}**/*.${TS}`],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: 'Program',
        message: `src-shared is at most ${SHARED_MAX_DEPTH} folders deep (extend eslint.config.js if it must grow)`,
      }],
    },
  },

  {
    files: [`src-main/**/*.${TS}`],
    ignores: ['src-main/electron/**'],
    rules: restrict(mainBans),
  },
  {
    files: [`src-main/electron/preload*.${TS}`],
    rules: restrict(preloadBans),
  },
  {
    files: [`src-main/electron/**/*.${TS}`],
    ignores: [`src-main/electron/preload*.${TS}`],
    rules: restrict([ban(RENDERER_PATH, 'main code must not import the renderer'), ban(TEST_PATH, 'production code must not import tests')]),
  },

  {
    files: [`src-renderer/**/*.${TS}`],
    ignores: ['src-renderer/vite.config.ts', 'src-renderer/api.ts'],
    rules: restrict(rendererBans, [...rendererSyntax, ...windowMedrelay]),
  },
  {
    files: ['src-renderer/api.ts'],
    rules: restrict(rendererBans, rendererSyntax),
  },
]);
