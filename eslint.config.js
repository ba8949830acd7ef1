// ESLint flat config for the browser code: plain ES modules under web/static, loaded by the pages
// as they are (no bundler), so the only environment is the browser's.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["web/static/vendor/**", "node_modules/**", ".venv/**"] },
  {
    files: ["web/static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...js.configs.recommended.rules,
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-var": "error",
      "prefer-const": "error",
      "eqeqeq": ["error", "always", { null: "ignore" }],
      "no-shadow": "error",
      "no-implicit-globals": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-param-reassign": "error",
      "no-return-assign": "error",
      "no-throw-literal": "error",
      "prefer-promise-reject-errors": "error",
      "no-use-before-define": ["error", { functions: false, classes: true, variables: true }],
      "object-shorthand": "error",
      "curly": ["error", "multi-line"],
    },
  },
  {
    files: ["eslint.config.js"],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: globals.node },
  },
];
