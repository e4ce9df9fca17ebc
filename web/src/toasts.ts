/**
 * The rules of the action toasts, pure: which actions a tab follows with a toast, what an
 * action is in words, what its status says, and when a toast closes by itself.
 */
import type { Hash } from "viem";
import { decodeChamaError } from "./chamaErrors";
import { short } from "./format";
import { OPEN_STATUSES, type Action, type ActionParams } from "./sync/types";
import { type Unit, formatAmount } from "./units";

/** A toast closes by itself this long after its action is indexed (reconciled). */
export const AUTO_CLOSE_MS = 6_000;

/**
 * Whether a tab follows `action` with a toast, decided the first time the tab sees it: every
 * action still open (draft, pending, confirmed), so one sent before a reload or in another tab
 * of the same account is followed to its end, and every action created since the page loaded,
 * however fast it finished. A finished action from before the load never shows.
 */
export function followsAction(params: { action: Action; loadedAt: number }): boolean {
  return OPEN_STATUSES.has(params.action.status) || params.action.createdAt >= params.loadedAt;
}

/** "#1 Mama Mboga Savers", or "#1" while the name is not known. */
export function chamaLabel(params: { chamaId: bigint; name: string | undefined }): string {
  return params.name === undefined ? `#${params.chamaId}` : `#${params.chamaId} ${params.name}`;
}

/** What the action asks for: "Contribute 1,000 sats to #1 Mama Mboga Savers". */
export function actionWords(params: { params: ActionParams; chamaName: string | undefined; unit: Unit }): string {
  const { params: action, chamaName, unit } = params;
  switch (action.kind) {
    case "contribution":
      return `Contribute ${formatAmount(action.amount, unit)} to ${chamaLabel({ chamaId: action.chamaId, name: chamaName })}`;
    case "payout":
      return `Pay out ${formatAmount(action.amount, unit)} from ${chamaLabel({ chamaId: action.chamaId, name: chamaName })} to ${short(action.recipient)}`;
    case "createChama":
      return `Create the chama "${action.name}" (minimum ${formatAmount(action.contributionAmount, unit)})`;
  }
}

/** One sentence on where the action is; a failure's is the contract's error in words. */
export function statusSentence(params: { action: Action; unit: Unit }): string {
  const { action, unit } = params;
  switch (action.status) {
    case "draft":
      return action.nonce === undefined ? "Not sent yet: waiting for the connection or its turn." : "Sending…";
    case "pending":
      return action.reorged ? "A reorg took it out of its block: waiting for it to land again." : "Sent, waiting for a block.";
    case "confirmed":
      return "In a block, waiting for the index.";
    case "reconciled":
      return action.discrepancies ? "Indexed; the chain's values differ from what was sent." : "Indexed: it shows in the lists.";
    default: {
      const fallback =
        action.status === "dropped"
          ? "The transaction vanished from the chain."
          : action.status === "replaced"
            ? "Another transaction took its nonce."
            : "It failed.";
      return action.error ? (decodeChamaError({ error: action.error.message, unit }) ?? action.error.message) : fallback;
    }
  }
}

/** The transaction's page on a block explorer (Etherscan's and Blockscout's path). */
export function explorerTxUrl(params: { explorerUrl: string; hash: Hash }): string {
  return `${params.explorerUrl}/tx/${params.hash}`;
}
