/** The toasts' rules: which actions a tab follows, the words, the status sentences, the link. */
import { describe, expect, test } from "vitest";
import { SAT } from "../../common/chain";
import type { Action, ActionStatus } from "../../web/src/sync/types";
import { actionWords, explorerTxUrl, followsAction, statusSentence } from "../../web/src/toasts";

const LOADED = 1_700_000_000_000;
const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

function action(params: { status: ActionStatus; createdAt: number; error?: Action["error"] }): Action {
  return {
    id: "a1",
    chainId: 31337,
    account: ACCOUNT,
    params: { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT },
    status: params.status,
    createdAt: params.createdAt,
    updatedAt: params.createdAt,
    hashes: [],
    ...(params.error ? { error: params.error } : {}),
  };
}

describe("which actions a tab follows", () => {
  test("every open action, also one created before the page loaded (a reload, another tab)", () => {
    for (const status of ["draft", "pending", "confirmed"] as const) {
      expect(followsAction({ action: action({ status, createdAt: LOADED - 60_000 }), loadedAt: LOADED })).toBe(true);
    }
  });

  test("a finished action only when it was created since the page loaded", () => {
    for (const status of ["reconciled", "failed", "dropped", "replaced"] as const) {
      expect(followsAction({ action: action({ status, createdAt: LOADED - 1 }), loadedAt: LOADED })).toBe(false);
      expect(followsAction({ action: action({ status, createdAt: LOADED + 5 }), loadedAt: LOADED })).toBe(true);
    }
  });
});

describe("words", () => {
  test("say what the action is, in the chosen unit, with the chama's number and name", () => {
    const contribution = { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } as const;
    expect(actionWords({ params: contribution, chamaName: "Mama Mboga Savers", unit: "sats" })).toBe(
      "Contribute 1,000 sats to #1 Mama Mboga Savers",
    );
    expect(actionWords({ params: contribution, chamaName: undefined, unit: "ether" })).toBe("Contribute 0.00001 ETH to #1");
    expect(
      actionWords({ params: { kind: "payout", chamaId: 2n, recipient: ACCOUNT, amount: 500n * SAT }, chamaName: "Boda", unit: "sats" }),
    ).toBe("Pay out 500 sats from #2 Boda to 0x7099…79C8");
    expect(actionWords({ params: { kind: "createChama", name: "Wazee", contributionAmount: 0n }, chamaName: undefined, unit: "sats" })).toBe(
      'Create the chama "Wazee" (minimum 0 sats)',
    );
  });

  test("a revert reads as the contract's sentence; other failures keep their message", () => {
    const reverted = action({
      status: "failed",
      createdAt: LOADED,
      error: { reason: "reverted", message: `would revert: BelowMinimum(${1_000n * SAT}, ${10_000n * SAT})` },
    });
    expect(statusSentence({ action: reverted, unit: "sats" })).toBe("This chama's minimum is 10,000 sats; 1,000 sats would be refused.");
    const timedOut = action({ status: "failed", createdAt: LOADED, error: { reason: "timeout", message: "No receipt after 10 minutes." } });
    expect(statusSentence({ action: timedOut, unit: "sats" })).toBe("No receipt after 10 minutes.");
    expect(statusSentence({ action: action({ status: "pending", createdAt: LOADED }), unit: "sats" })).toBe("Sent, waiting for a block.");
    expect(statusSentence({ action: action({ status: "reconciled", createdAt: LOADED }), unit: "sats" })).toBe("Indexed: it shows in the lists.");
  });

  test("the explorer link is the transaction's page", () => {
    const hash = `0x${"ab".repeat(32)}` as const;
    expect(explorerTxUrl({ explorerUrl: "https://sepolia.etherscan.io", hash })).toBe(`https://sepolia.etherscan.io/tx/${hash}`);
  });
});
