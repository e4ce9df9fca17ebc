/** A saved action for the store's tests: a draft contribution of 2^70 + 1 wei (past 2^53, so a
 * lossy number would show), created and updated at `ACTION_NOW`. */
import type { Address } from "viem";
import type { Action } from "../../web/src/sync/types";

export const ACTION_NOW = 1_700_000_000_000;
export const ALICE: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

export function savedAction(overrides: Partial<Action>): Action {
  return {
    id: "a",
    chainId: 31337,
    account: ALICE,
    params: { kind: "contribution", chamaId: 1n, amount: 2n ** 70n + 1n },
    status: "draft",
    createdAt: ACTION_NOW,
    updatedAt: ACTION_NOW,
    hashes: [],
    ...overrides,
  };
}
