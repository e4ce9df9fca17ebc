/**
 * Reconcile and rebuild on PGlite, where one process owns the database directory: tamper a row
 * (with the indexer stopped, as only then can anything else open it), `npm run reconcile --url`
 * finds it (exit 1), `npm run rebuild` builds and verifies a new directory while the running
 * indexer keeps answering, and after the documented stop-and-swap the index reconciles clean.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { accounts, type Chain, chamaAs, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { SAT } from "../common/chain";
import { runScript, scriptEnv } from "./_support/scripts";
import { waitFor } from "../scripts/lib/processes";

describe("reconcile and rebuild on pglite", () => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let startBlock: number;
  const root = mkdtempSync(path.join(os.tmpdir(), "jenga-pglite-ops-"));
  const live = path.join(root, "pglite");
  const rebuilt = path.join(root, "pglite-rebuilt");
  // The ledger survives the stop-and-swap: it lives beside the index, not in its directory.
  const ledgerDirectory = path.join(root, "ledger");
  const schema = `jenga_${process.pid}`;
  const as = (i: number) => chamaAs({ chain, address, account: accounts[i]! });
  const env = () => scriptEnv({ chain, address, startBlock, database: "pglite", pgliteDirectory: live });

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await as(0).createChama("Alpha", 0n);
    await as(2).contribute(1n, 1_000n * SAT);
    await as(3).contribute(1n, 3_000n * SAT);
    await as(0).payout(1n, accounts[4]!.address, 500n * SAT);
    await chain.testClient.mine({ blocks: 35 });
    indexer = await startIndexer({ chain, address, startBlock, database: "pglite", storage: { schema, databaseUrl: undefined, pgliteDirectory: live, ledgerDirectory }, env: env() });
    await indexer.waitForBlock();
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test("a tampered total is found, a rebuild in a new directory fixes it, readers answered throughout", async () => {
    const clean = await runScript({ name: "reconcile", args: ["--url", indexer.url], env: env() });
    expect(clean.stdout).toContain("the index equals the chain");
    expect(clean.code).toBe(0);

    // Only a stopped indexer lets another process open its PGlite directory.
    await indexer.stop();
    const db = new PGlite(live);
    // Straight into the table, past Ponder's triggers.
    await db.exec(`SET session_replication_role = replica; UPDATE "${schema}".chama SET total_paid_out = total_paid_out + 7, balance = balance - 7 WHERE id = 1`);
    await db.close();
    indexer = await startIndexer({ chain, address, startBlock, database: "pglite", storage: { schema, databaseUrl: undefined, pgliteDirectory: live, ledgerDirectory }, env: env() });
    await indexer.waitForBlock();

    const found = await runScript({ name: "reconcile", args: ["--url", indexer.url], env: env() });
    expect(found.code).toBe(1);
    expect(found.stdout).toContain("2 differences (2 value_mismatch)");
    expect(found.stdout).toContain(`value_mismatch chama 1: totalPaidOut: db ${500n * SAT + 7n} chain ${500n * SAT}; balance: db ${3_500n * SAT - 7n} chain ${3_500n * SAT}`);
    expect(found.stdout).toContain(`value_mismatch contract ${address.toLowerCase()}: balance: db ${3_500n * SAT - 7n} chain ${3_500n * SAT}`);

    // The rebuild runs beside the live indexer, which keeps answering.
    const answers: string[] = [];
    const failures: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const result = await indexer.graphql<{ chama: { totalPaidOut: string } }>(`{ chama(id: "1") { totalPaidOut } }`).catch((e: unknown) => ({ errors: [{ message: String(e) }], data: undefined }));
        if (result.data) answers.push(result.data.chama.totalPaidOut);
        else failures.push(JSON.stringify(result.errors));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const result = await runScript({ name: "rebuild", args: ["--schema", schema, "--pglite-directory", rebuilt, "--timeout-minutes", "2"], env: env(), timeoutMs: 150_000 });
    reading = false;
    await reader;
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("the index equals the chain");
    expect(result.stdout).toContain(`mv ${live} ${live}-old-`);
    expect(result.stdout).toContain(`&& mv ${rebuilt} ${live}`);
    expect(failures).toEqual([]);
    expect(answers.length).toBeGreaterThan(5);

    // Stop and swap, as printed: the restarted indexer serves the verified directory.
    await indexer.stop();
    indexer = await startIndexer({ chain, address, startBlock, database: "pglite", storage: { schema, databaseUrl: undefined, pgliteDirectory: rebuilt, ledgerDirectory }, env: { ...env(), PGLITE_DIRECTORY: rebuilt } });
    await indexer.waitForBlock();
    const after = await runScript({ name: "reconcile", args: ["--url", indexer.url], env: env() });
    expect(after.stdout).toContain("the index equals the chain");
    expect(after.code).toBe(0);
    const [, , , , paidOut] = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [1n] });
    const answer = await waitFor({
      what: "the swapped index to answer",
      check: async () => (await indexer.graphql<{ chama: { totalPaidOut: string } }>(`{ chama(id: "1") { totalPaidOut } }`)).data?.chama.totalPaidOut,
    });
    expect(answer).toBe(paidOut.toString());
  }, 240_000);
});
