import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".ponder/", "generated/", "web/dist/", "test-results/", "ponder-env.d.ts", "bench/.cache/", "bench/peers/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // Layers (README, "Layout"): each folder imports only what its job needs.
  {
    files: ["src/**", "ops/**", "config/**", "common/**", "scripts/**", "ledger/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/test/**", "**/bench/**", "**/chaos/**", "**/web/**"], message: "Runtime code must not import tests, benchmarks, the chaos harness or the web app." }] }],
    },
  },
  {
    files: ["web/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(\\.\\./)+(src|ops|config|scripts|test|bench|chaos|ponder\\.\\w+)(/|$)",
              message: "The web app imports only abis/ and common/ from outside web/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["bench/**", "chaos/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(\\.\\./)+test/(?!_support/)", message: "Benchmarks and the chaos harness take only test/_support/ from the tests." },
            { regex: "^(\\.\\./)+bench(/|$)", message: "Nothing outside bench/ imports it." },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ regex: "^(\\.\\./)+bench(/|$)", message: "Nothing outside bench/ imports it: a benchmark helper's test lives in bench/." }] }],
    },
  },
  {
    files: ["common/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(?!\\./|viem(/|$))", message: "common/ is shared by the server, the scripts and the web app: it imports nothing outside common/ but viem." }] },
      ],
    },
  },
);
