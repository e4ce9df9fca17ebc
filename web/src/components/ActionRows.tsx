/**
 * Optimistic rows: the user's own actions that the index does not show yet (or that failed),
 * merged above the indexed rows at render time so a refetch never wipes them.
 */
import { useState } from "react";
import { useApp } from "../appContext";
import { short } from "../format";
import { canDismiss, canRetry } from "../sync/rules";
import type { Action, ActionStatus } from "../sync/types";
import { type Unit, formatAmount } from "../units";
import { decodeChamaError } from "../chamaErrors";
import { errorMessage } from "../../../common/errors";

const BADGE: Record<ActionStatus, string> = {
  draft: "draft",
  pending: "pending",
  confirmed: "confirmed",
  reconciled: "indexed",
  failed: "failed",
  replaced: "replaced",
  dropped: "dropped",
};

export function StatusBadge({ action }: { action: Action }) {
  const reorged = action.reorged && (action.status === "pending" || action.status === "confirmed");
  const text = reorged ? `${BADGE[action.status]} · reorged` : BADGE[action.status];
  return (
    <span className={`badge badge-${action.status}${reorged ? " badge-reorged" : ""}`} data-testid="status-badge">
      {text}
    </span>
  );
}

function describe(action: Action, unit: Unit): string {
  switch (action.status) {
    case "draft":
      return action.nonce === undefined ? "waiting to send (offline or queued)" : `sending with nonce ${action.nonce}`;
    case "pending":
      return action.reorged ? "a reorg removed it from the chain: waiting for it to land again" : "sent, waiting for a block";
    case "confirmed":
      return action.reorged ? "re-confirmed after a reorg, waiting for the index" : "in a block, waiting for the index";
    case "reconciled":
      return action.discrepancies ? "indexed (the chain's values differ from what was sent)" : "indexed";
    default:
      // A contract revert reads as a sentence in the chosen unit, not as raw wei.
      return action.error ? (decodeChamaError({ error: action.error.message, unit }) ?? action.error.message) : action.status;
  }
}

/** Amount (or name) the row shows: the indexed value when there is one (chain wins). */
function amountOf(action: Action): bigint | undefined {
  if (action.indexed?.amount !== undefined) return action.indexed.amount;
  return action.params.kind === "createChama" ? action.params.contributionAmount : action.params.amount;
}

/** `summary`, when given, says in words what each action asks for, in place of its address and
 * amount cells. */
export function ActionRows(props: { actions: Action[]; columns: number; testId: string; summary?: (action: Action) => string }) {
  return (
    <>
      {props.actions.map((action) => (
        <ActionRow key={action.id} action={action} columns={props.columns} testId={props.testId} summary={props.summary} />
      ))}
    </>
  );
}

/** One action. Retry only where a retry can succeed (`canRetry`: timed out, dropped,
 * cancelled); Dismiss for every finished failure. A refusal (another tab acted first) shows
 * on the row. */
function ActionRow(props: { action: Action; columns: number; testId: string; summary?: (action: Action) => string }) {
  const { action, columns, testId, summary } = props;
  const { unit, retry, dismiss } = useApp();
  const [error, setError] = useState<string>();
  const amount = amountOf(action);
  const onRetry = () => {
    setError(undefined);
    try {
      retry(action.id).catch((e: unknown) => setError(errorMessage(e)));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const onDismiss = () => {
    try {
      dismiss(action.id);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <tr
      className={`action-row status-${action.status}`}
      data-testid={testId}
      data-status={action.status}
      data-reorged={action.reorged ? "true" : "false"}
      data-hash={action.hash ?? ""}
    >
      <td data-label="Status">
        <StatusBadge action={action} />
      </td>
      {summary ? (
        <td colSpan={2} className="summary" data-testid="action-summary">
          {summary(action)}
        </td>
      ) : (
        <>
          <td data-label={action.params.kind === "payout" ? "Recipient" : action.params.kind === "createChama" ? "Admin" : "Contributor"}>
            {action.params.kind === "payout" ? short(action.params.recipient) : short(action.account)}
          </td>
          <td className="amount" data-label={action.params.kind === "createChama" ? "Minimum" : "Amount"}>
            {amount === undefined ? "" : formatAmount(amount, unit)}
          </td>
        </>
      )}
      <td colSpan={Math.max(1, columns - 3)} className="detail">
        {describe(action, unit)}
        {action.hash ? <code className="hash"> {short(action.hash)}</code> : null}
        {canRetry(action) ? (
          <button type="button" className="retry" data-testid="retry" onClick={onRetry}>
            Retry
          </button>
        ) : null}
        {canDismiss(action) ? (
          <button type="button" className="dismiss" data-testid="dismiss" onClick={onDismiss}>
            Dismiss
          </button>
        ) : null}
        {error ? (
          <span className="error" data-testid="action-error">
            {" "}
            {error}
          </span>
        ) : null}
      </td>
    </tr>
  );
}
