/**
 * The short, fixed-seed form of `npm run chaos`: on each database, four scenarios that cover
 * reorgs (anvil_reorg and snapshot/revert), SIGKILL crashes with restarts on the same schema,
 * and RPC faults through the proxy, with the invariant checked after each and a fresh index
 * compared at the end. The longer soak is `npm run chaos -- --scenarios N --seed S`.
 */
import { describe, expect, test } from "vitest";
import { diffTables, runChaos, summaryLine } from "../chaos/run";
import { databases } from "./_support/chain";
import type { Tables } from "./_support/truth";

describe.each(databases)("chaos on %s", (database) => {
  test("4 scenarios with reorgs, crashes and RPC faults end with 0 divergences", { timeout: 420_000 }, async () => {
    const lines: string[] = [];
    const result = await runChaos({ scenarios: 4, seed: 1, database, log: (line) => lines.push(line) });
    console.log(`${lines.join("\n")}\n${database}: ${summaryLine(result)} (${result.seconds} s)`);
    expect(result.divergence).toBeUndefined();
    expect(result).toMatchObject({ scenarios: 4, divergences: 0 });
    expect(result.reorgs).toBeGreaterThanOrEqual(2);
    expect(result.crashes).toBeGreaterThanOrEqual(1);
    expect(result.faults).toBeGreaterThanOrEqual(3);
  });
});

describe("divergence report", () => {
  const empty: Tables = { chamas: [], contributions: [], payouts: [], members: [], accounts: [], chamaDays: [] };
  const row = { id: "0xaa", totalContributed: "5", totalReceived: "0", contributionCount: 1, payoutCount: 0, chamaCount: 1 };

  test("names the table and shows the first differing rows from both sides", () => {
    const expected: Tables = { ...empty, accounts: [row] };
    const indexed: Tables = { ...empty, accounts: [{ ...row, totalContributed: "6" }] };
    expect(diffTables(expected, indexed)).toBe(
      [
        "accounts (1 expected, 1 indexed), first difference at row 0:",
        `  chain:   ${JSON.stringify(row)}`,
        `  indexed: ${JSON.stringify({ ...row, totalContributed: "6" })}`,
      ].join("\n"),
    );
    expect(diffTables(expected, { ...empty })).toContain("accounts (1 expected, 0 indexed)");
    expect(diffTables(expected, expected)).toBe("");
  });

  test("the summary line has the promised shape", () => {
    expect(
      summaryLine({ database: "pglite", seed: 1, scenarios: 50, reorgs: 20, maxDepth: 8, crashes: 9, faults: 300, divergences: 0, seconds: 1 }),
    ).toBe("scenarios 50, reorgs 20 (max depth 8), crashes 9, rpc faults 300, divergences 0");
  });
});
