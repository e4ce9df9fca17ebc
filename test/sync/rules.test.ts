/** The pure rules over actions: what a retry can still carry out, what can be dismissed, and
 * whose actions are listed. */
import { describe, expect, test } from "vitest";
import { canDismiss, canRetry, ownActions, retryPlan } from "../../web/src/sync/rules";
import type { Action, FailureReason } from "../../web/src/sync/types";

const ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function action(overrides: Partial<Action>): Action {
  return {
    id: "a",
    chainId: 31337,
    account: ALICE,
    params: { kind: "contribution", chamaId: 1n, amount: 1n },
    status: "failed",
    createdAt: 0,
    updatedAt: 0,
    hashes: [],
    ...overrides,
  };
}

function failed(reason: FailureReason, status: Action["status"] = "failed"): Action {
  return action({ status, error: { reason, message: reason } });
}

describe("retryPlan", () => {
  test("a timeout and a drop keep their nonce; a cancellation is sent afresh", () => {
    expect(retryPlan(failed("timeout"))).toEqual({ retryable: true, keepsNonce: true });
    expect(retryPlan(failed("dropped", "dropped"))).toEqual({ retryable: true, keepsNonce: true });
    expect(retryPlan(action({ status: "dropped" })), "dropped whatever the message").toEqual({ retryable: true, keepsNonce: true });
    expect(retryPlan(failed("cancelled", "replaced"))).toEqual({ retryable: true, keepsNonce: false });
  });

  test("a revert, a refusal before sending and another call in the slot cannot succeed", () => {
    expect(retryPlan(failed("reverted"))).toEqual({
      retryable: false,
      why: "it reverted on chain, and the same call would revert again",
    });
    expect(retryPlan(failed("rejected"))).toMatchObject({ retryable: false, why: expect.stringMatching(/refused before sending/) });
    expect(retryPlan(failed("replaced", "replaced"))).toMatchObject({ retryable: false, why: expect.stringMatching(/another call/) });
    expect(retryPlan(action({ status: "failed" }))).toMatchObject({ retryable: false, why: "its failure has no known reason" });
  });

  test("open, reconciled and dismissed actions are not retried", () => {
    for (const status of ["draft", "pending", "confirmed", "reconciled"] as const) {
      expect(retryPlan(action({ status }))).toEqual({ retryable: false, why: `it is ${status}` });
    }
    expect(retryPlan(action({ status: "failed", error: { reason: "timeout", message: "" }, dismissedAt: 1 }))).toEqual({
      retryable: false,
      why: "it was dismissed",
    });
  });

  test("canRetry is the plan's verdict", () => {
    expect(canRetry(failed("timeout"))).toBe(true);
    expect(canRetry(failed("reverted"))).toBe(false);
  });
});

describe("canDismiss", () => {
  test("every finished failure, once; nothing open or reconciled", () => {
    for (const [reason, status] of [
      ["reverted", "failed"],
      ["rejected", "failed"],
      ["timeout", "failed"],
      ["dropped", "dropped"],
      ["replaced", "replaced"],
      ["cancelled", "replaced"],
    ] as const) {
      expect(canDismiss(failed(reason, status)), `${status} ${reason}`).toBe(true);
    }
    expect(canDismiss({ ...failed("reverted"), dismissedAt: 5 })).toBe(false);
    for (const status of ["draft", "pending", "confirmed", "reconciled"] as const) {
      expect(canDismiss(action({ status })), status).toBe(false);
    }
  });
});

describe("ownActions", () => {
  test("one account on one chain, whatever the address's case, without the dismissed", () => {
    const list = [
      action({ id: "alice" }),
      action({ id: "alice-lower", account: ALICE.toLowerCase() as Action["account"] }),
      action({ id: "bob", account: BOB }),
      action({ id: "other-chain", chainId: 1 }),
      action({ id: "dismissed", dismissedAt: 1 }),
    ];
    expect(ownActions(list, { chainId: 31337, account: ALICE }).map((a) => a.id)).toEqual(["alice", "alice-lower"]);
    expect(ownActions(list, { chainId: 31337, account: BOB }).map((a) => a.id)).toEqual(["bob"]);
  });
});
