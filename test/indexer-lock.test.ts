/**
 * The indexer lock (config/indexer-lock.ts) against a real anvil and the real `ponder start`,
 * on PGlite and PostgreSQL:
 *
 * - after a SIGKILL, the restart proves the old process gone and starts its crash recovery at
 *   once, instead of waiting for Ponder's 25 s lock timeout ("Schema is locked"), and the index
 *   then equals the chain, with the rows sent while it was down;
 * - a second indexer on a schema (PostgreSQL) or a PGlite directory that a live indexer holds
 *   clears nothing: on PGlite it refuses to start, naming the process; on PostgreSQL it leaves
 *   the lock to Ponder, and the first indexer keeps indexing.
 */
import { existsSync } from "node:fs";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SAT } from "../common/chain";
import { pidFile } from "../config/indexer-lock";
import { stopProcess, waitFor, waitForExit } from "../scripts/lib/processes";
import { spawnPonder } from "../scripts/lib/ponder";
import { getFreePort } from "../scripts/lib/ports";
import { CHAIN_ID, type Chain, accounts, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { expectedTables, indexedTables } from "./_support/truth";

describe.each(databases)("indexer lock on %s", (database) => {
  let chain: Chain;
  let address: Address;
  let startBlock: number;
  let indexer: Indexer | undefined;

  const member = (i: number) => chamaAs({ chain, address, account: accounts[i]! });

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await member(0).createChama("Alpha", 1_000n * SAT);
    await member(2).contribute(1n, 1_000n * SAT);
    indexer = await startIndexer({ chain, address, startBlock, database });
    await indexer.waitForBlock();
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  async function expectEqualToChain(current: Indexer) {
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await current.waitForBlock(head);
    expect(await indexedTables(current)).toEqual(await expectedTables({ chain, address, fromBlock: BigInt(startBlock), toBlock: head }));
  }

  test("a live indexer's schema or directory is never taken over", async () => {
    const live = indexer!;
    const port = await getFreePort();
    const second = spawnPonder({
      args: ["start", "--port", String(port), "--hostname", "127.0.0.1", "--schema", live.schema],
      stdio: "pipe",
      env: {
        CHAIN_ID: String(CHAIN_ID),
        [`PONDER_RPC_URL_${CHAIN_ID}`]: chain.rpcUrl,
        CHAMA_ADDRESS: address,
        CHAMA_START_BLOCK: String(startBlock),
        DATABASE_URL: live.storage.databaseUrl ?? "",
        PGLITE_DIRECTORY: live.storage.pgliteDirectory,
        LEDGER_ENABLED: "false",
        PONDER_LOG_LEVEL: "info",
      },
    });
    let output = "";
    second.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    second.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      if (database === "pglite") {
        await waitForExit(second);
        expect(second.exitCode).not.toBe(0);
        expect(output).toContain(`The PGlite directory ${live.storage.pgliteDirectory} is in use by indexer process`);
      } else {
        await waitFor({
          what: "the second indexer to find the schema held",
          timeoutMs: 30_000,
          check: async () => (output.includes("Schema is locked by a different Ponder app") ? true : undefined),
        });
        expect(output).toContain(`Another indexer of this project holds schema "${live.schema}"`);
        expect(output).not.toContain("is gone");
      }
    } finally {
      if (second.exitCode === null) await stopProcess(second, { graceMs: 2_000 });
    }
    // The first one was not disturbed.
    await member(3).contribute(1n, 1_000n * SAT);
    await expectEqualToChain(live);
  });

  test("a restart after SIGKILL starts its crash recovery at once and catches up", async () => {
    const killed = indexer!;
    await killed.kill();
    if (database === "pglite") expect(existsSync(pidFile(killed.storage.pgliteDirectory))).toBe(true);
    // Rows sent while no indexer runs.
    await member(4).contribute(1n, 1_000n * SAT);
    await member(0).payout(1n, accounts[5]!.address, 500n * SAT);

    indexer = await startIndexer({ chain, address, startBlock, database, storage: killed.storage });
    await expectEqualToChain(indexer);
    const logs = indexer.logs();
    expect(logs).toContain(`The previous indexer on schema "${killed.schema}" is gone`);
    expect(logs).toContain("Detected crash recovery");
    expect(logs).not.toContain("Schema is locked");
  });
});
