/**
 * Ponder hashes every file under src/ outside src/api/ into its build id, and `ponder start`
 * refuses a schema an app of another build id wrote. Only the handlers live there
 * (src/Chama.ts): a change to configuration, operations or API code must resume the same
 * schema, not force a re-index.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectRoot } from "../scripts/lib/chama";
import { seedDemo } from "../scripts/seed";
import { type Chain, deploy, startChain } from "./_support/chain";
import { createStorage, removeStorage, startIndexer } from "./_support/indexer";
import { waitFor } from "../scripts/lib/processes";

/** The project's tracked files, copied, with the real node_modules linked in. */
function copyProject(): string {
  const copy = mkdtempSync(path.join(tmpdir(), "jenga-build-id-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: projectRoot, encoding: "utf8" }).split("\n").filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    cpSync(path.join(projectRoot, file), path.join(copy, file));
  }
  symlinkSync(path.join(projectRoot, "node_modules"), path.join(copy, "node_modules"));
  return copy;
}

describe("build id", () => {
  let chain: Chain;
  let copy: string;

  beforeAll(async () => {
    chain = await startChain();
    copy = copyProject();
  });
  afterAll(async () => {
    await chain?.stop();
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  test("a change to config, ops or API code resumes the same schema instead of re-indexing", async () => {
    const { address, startBlock } = await deploy(chain);
    await seedDemo({ rpcUrl: chain.rpcUrl, address });
    const storage = createStorage({ database: "postgres", chain });
    try {
      const first = await startIndexer({ chain, address, startBlock, database: "postgres", storage, cwd: copy });
      await first.waitForBlock();
      const before = await first.graphql<{ contributions: { totalCount: number } }>("{ contributions { totalCount } }");
      expect(before.data?.contributions.totalCount).toBeGreaterThan(0);
      await first.stop();

      for (const file of ["config/env.ts", "config/rpc.ts", "ops/health.ts", "ops/reconcile.ts", "src/api/index.ts"]) {
        appendFileSync(path.join(copy, file), "\n// an edit that touches no handler\n");
      }

      const second = await startIndexer({ chain, address, startBlock, database: "postgres", storage, cwd: copy });
      try {
        await second.waitForBlock();
        expect(second.logs()).toContain("Detected crash recovery");
        expect(second.logs()).not.toContain("previously used by a different Ponder app");
        // Crash recovery rolls back to the last finalized checkpoint and indexes the rest again.
        await waitFor({
          what: "the resumed indexer to serve every contribution again",
          timeoutMs: 60_000,
          check: async () => {
            const after = await second.graphql<{ contributions: { totalCount: number } }>("{ contributions { totalCount } }");
            return after.data?.contributions.totalCount === before.data?.contributions.totalCount ? true : undefined;
          },
        });
      } finally {
        await second.stop();
      }
    } finally {
      await removeStorage(storage);
    }
  });
});
