import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/sync: the sync core on a fake clock; test/*.test.ts: indexer and sync engine against
    // real anvil and Ponder; test/e2e: the web app in Chromium (also `npm run test:e2e`);
    // bench/*.test.ts: the benchmarks' own helpers, kept beside them so nothing imports bench/.
    include: ["test/**/*.test.ts", "bench/**/*.test.ts"],
    // bench/peers/: other indexers with their own dependencies, run only by `npm run bench -- --peers`.
    exclude: [...configDefaults.exclude, "bench/peers/**"],
    globalSetup: ["test/global-setup.ts"],
    // Each indexer suite runs real anvil and Ponder processes; on 2 cores they go one file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
