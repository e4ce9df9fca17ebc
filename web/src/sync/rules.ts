/**
 * Pure rules over actions, in one home for the engine and the rows: which finished action a
 * retry can still carry out, which one can be dismissed, and which actions are the current
 * account's.
 */
import type { Address } from "viem";
import { JengaError } from "../../../common/errors";
import type { Action } from "./types";

/** Finished without the call taking effect: shown with its reason until dismissed. */
const FINISHED_FAILURES: ReadonlySet<Action["status"]> = new Set(["failed", "dropped", "replaced"]);

export type RetryPlan =
  /** `keepsNonce`: the action's own transaction may still land, so the retry resends with the
   * nonce it owns (at most one of the two can ever be mined). */
  | { retryable: true; keepsNonce: boolean }
  | { retryable: false; why: string };

/**
 * Whether a retry can succeed, and how it must run. Retried:
 * - timed out: no receipt in time; the transaction may be stuck, so the nonce is kept;
 * - dropped: it left the chain (a reorg, an eviction) and its nonce is still free: kept;
 * - cancelled: a cancellation took its nonce, so the call never ran: sent afresh.
 *
 * Not retried: a revert (the chain ran the call and refused it), a refusal before sending (a
 * would-revert verdict, a declined signature, the node saying no), a different call in its nonce
 * slot (something else the account sent instead: resending could repeat what that did),
 * anything still open or reconciled, and anything dismissed. An unreachable RPC never fails an
 * action: it stays a draft and is sent when the connection returns.
 */
export function retryPlan(action: Action): RetryPlan {
  if (action.dismissedAt !== undefined) return { retryable: false, why: "it was dismissed" };
  if (!FINISHED_FAILURES.has(action.status)) return { retryable: false, why: `it is ${action.status}` };
  if (action.status === "dropped") return { retryable: true, keepsNonce: true };
  switch (action.error?.reason) {
    case "timeout":
      return { retryable: true, keepsNonce: true };
    case "cancelled":
      return { retryable: true, keepsNonce: false };
    case "reverted":
      return { retryable: false, why: "it reverted on chain, and the same call would revert again" };
    case "rejected":
      return { retryable: false, why: "it was refused before sending; submit it anew once the cause is fixed" };
    case "replaced":
      return { retryable: false, why: "another call took its nonce; resending could repeat what that call did" };
    default:
      return { retryable: false, why: "its failure has no known reason" };
  }
}

/** True when a retry can succeed (the rows show Retry only then). */
export function canRetry(action: Action): boolean {
  return retryPlan(action).retryable;
}

/** Every finished failure can be dismissed, once. */
export function canDismiss(action: Action): boolean {
  return action.dismissedAt === undefined && FINISHED_FAILURES.has(action.status);
}

/** Whose actions are listed and counted: one account on one chain. */
export type ActionOwner = { chainId: number; account: Address };

/** The owner's actions that are still to be shown: dismissed ones are left out. */
export function ownActions(actions: readonly Action[], owner: ActionOwner): Action[] {
  const account = owner.account.toLowerCase();
  return actions.filter(
    (a) => a.chainId === owner.chainId && a.account.toLowerCase() === account && a.dismissedAt === undefined,
  );
}

/** A retry the rules refuse: nothing was changed. */
export class RetryRefusedError extends JengaError {
  override name = "RetryRefusedError";
  constructor(params: { action: Action; why: string }) {
    super(`Action ${params.action.id} cannot be retried: ${params.why}.`, {
      details: { id: params.action.id, status: params.action.status, reason: params.action.error?.reason },
    });
  }
}

/** A dismissal of an action that is not a finished failure (or already dismissed). */
export class DismissRefusedError extends JengaError {
  override name = "DismissRefusedError";
  constructor(params: { action: Action }) {
    const { action } = params;
    super(
      action.dismissedAt !== undefined
        ? `Action ${action.id} is already dismissed.`
        : `Action ${action.id} is ${action.status}; only failed, dropped or replaced actions can be dismissed.`,
      { details: { id: action.id, status: action.status } },
    );
  }
}
