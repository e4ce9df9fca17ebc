/**
 * The review step: before anything is signed, what will happen, for which chama, the amount
 * in all three units, the fee estimate, and the account's balance before and after. Nothing
 * is sent until Confirm; Confirm is one intent (one id from the dialog's opening) and is
 * disabled on its first click.
 */
import { useEffect, useRef, useState } from "react";
import { useApp } from "../appContext";
import { type ChamaFacts, checkAction, valueOf } from "../checks";
import { explainError } from "../chamaErrors";
import { usePreview } from "../hooks/usePreview";
import { newIntentId } from "../intent";
import type { ActionParams } from "../sync/types";
import { UNITS, type Unit, formatAmount } from "../units";
import { errorMessage } from "../../../common/errors";
import "../money.css";

/** What the person asked for, and what the index knows of the chama it is for. */
export type Review = { params: ActionParams; chama?: ChamaFacts | undefined };

const TITLE: Record<ActionParams["kind"], string> = {
  contribution: "Review your contribution",
  payout: "Review the payout",
  createChama: "Review the new chama",
};

function chamaLabel(chama: ChamaFacts | undefined, params: ActionParams): string {
  if (params.kind === "createChama") return `new: ${params.name}`;
  return chama ? `#${chama.id} ${chama.name}` : `#${params.chamaId}`;
}

function summary(params: ActionParams, chama: ChamaFacts | undefined, unit: Unit): string {
  const label = chamaLabel(chama, params);
  switch (params.kind) {
    case "contribution":
      return `Send ${formatAmount(params.amount, unit)} from your account to chama ${label}.`;
    case "payout":
      return `Pay ${formatAmount(params.amount, unit)} from the pot of chama ${label} to ${params.recipient}.`;
    case "createChama":
      return `Create the chama "${params.name}" with a minimum contribution of ${formatAmount(params.contributionAmount, unit)}. You become its admin.`;
  }
}

function amountOf(params: ActionParams): bigint {
  return params.kind === "createChama" ? params.contributionAmount : params.amount;
}

/** An amount in the chosen unit, with the other two units beneath it. */
function Amount({ wei, unit, testId }: { wei: bigint; unit: Unit; testId: string }) {
  return (
    <>
      <strong data-testid={testId}>{formatAmount(wei, unit)}</strong>
      <span className="other-units">
        {UNITS.filter((u) => u !== unit).map((u) => (
          <span key={u} data-testid={`${testId}-${u}`}>
            {formatAmount(wei, u)}
          </span>
        ))}
      </span>
    </>
  );
}

export type ReviewDialogProps = {
  review: Review;
  /** Cancel, Escape, or Close after Confirm. */
  onClose: () => void;
  /** Called once the action is recorded (the form may clear its fields). */
  onSent?: () => void;
};

export function ReviewDialog({ review, onClose, onSent }: ReviewDialogProps) {
  const { unit, wallet, submit } = useApp();
  const { params, chama } = review;
  const dialog = useRef<HTMLDialogElement>(null);
  // One intent per opening of the review: a second Confirm (or another tab) sends nothing new.
  const [intentId] = useState(newIntentId);
  const confirming = useRef(false);
  const [confirmed, setConfirmed] = useState(false);
  const [submitError, setSubmitError] = useState<string>();

  const preview = usePreview({ account: wallet?.address, params });

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  const ready = preview.kind === "ready" ? preview : undefined;
  const fee = ready?.fee?.wei;
  const value = valueOf(params);
  const problems = checkAction({ params, unit, chama, account: wallet?.address, balance: ready?.balance, fee });
  const revert = ready?.revert ? explainError({ error: ready.revert, unit }) : undefined;
  // A payout to oneself comes back into the account.
  const back = params.kind === "payout" && wallet && params.recipient.toLowerCase() === wallet.address.toLowerCase() ? params.amount : 0n;
  const after = ready?.balance === undefined ? undefined : ready.balance - value - (fee ?? 0n) + back;
  const blocked = !wallet || preview.kind === "loading" || revert !== undefined || problems.length > 0;

  const onConfirm = () => {
    // Disabled from the first click on; the ref also covers a second click in the same frame.
    if (confirming.current || blocked) return;
    confirming.current = true;
    setConfirmed(true);
    try {
      submit(params, { intentId });
      onSent?.();
    } catch (error) {
      confirming.current = false;
      setConfirmed(false);
      setSubmitError(errorMessage(error));
    }
  };

  return (
    <dialog
      ref={dialog}
      className="review"
      data-testid="review-dialog"
      aria-labelledby="review-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="review-body">
        <h2 id="review-title">{confirmed ? "Sent for signing" : TITLE[params.kind]}</h2>
        <p data-testid="review-summary">{summary(params, chama, unit)}</p>
        <dl>
          <dt>Chama</dt>
          <dd data-testid="review-chama">{chamaLabel(chama, params)}</dd>
          <dt>{params.kind === "createChama" ? "Minimum contribution" : "Amount"}</dt>
          <dd>
            <Amount wei={amountOf(params)} unit={unit} testId="review-amount" />
          </dd>
          <dt>Fee (estimate)</dt>
          <dd data-testid="review-fee">
            {preview.kind === "loading"
              ? "estimating…"
              : ready?.fee
                ? `about ${formatAmount(ready.fee.wei, unit)}`
                : `fee unknown${ready?.feeError ? ` (${ready.feeError})` : ""}`}
          </dd>
          <dt>Your balance</dt>
          <dd>
            <span data-testid="review-balance-before">
              {preview.kind === "loading" ? "reading…" : ready?.balance === undefined ? "unknown" : formatAmount(ready.balance, unit)}
            </span>{" "}
            now
          </dd>
          <dt>After</dt>
          <dd>
            <span data-testid="review-balance-after">
              {after === undefined ? "unknown" : `${fee === undefined ? "" : "about "}${formatAmount(after, unit)}`}
            </span>
            <span className="other-units">
              {params.kind === "payout"
                ? back > 0n
                  ? "the payout comes back to you, minus the fee"
                  : "only the fee: the payout comes from the chama's pot"
                : params.kind === "contribution"
                  ? fee === undefined
                    ? "the amount; the fee is not included"
                    : "the amount plus the fee"
                  : "only the fee"}
            </span>
          </dd>
          {params.kind === "payout" && chama ? (
            <>
              <dt>Chama's pot</dt>
              <dd data-testid="review-pot">
                {formatAmount(chama.balance, unit)} → {chama.balance >= params.amount ? formatAmount(chama.balance - params.amount, unit) : "not enough"}
              </dd>
            </>
          ) : null}
        </dl>
        {revert ? (
          <p className="error" data-testid="review-revert">
            The chain would refuse this: {revert}
          </p>
        ) : null}
        {problems.length > 0 ? (
          <ul className="error" data-testid="review-problems">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : null}
        {submitError ? <p className="error">{submitError}</p> : null}
        {confirmed ? (
          <p className="muted" data-testid="review-sent">
            Recorded. It shows in the list with its status (draft, pending, confirmed) until the index has it.
          </p>
        ) : null}
        <div className="review-buttons">
          {confirmed ? (
            <button type="button" onClick={onClose} data-testid="review-close">
              Close
            </button>
          ) : (
            <button type="button" onClick={onClose} data-testid="review-cancel">
              Cancel
            </button>
          )}
          <button type="button" className="primary" disabled={blocked || confirmed} onClick={onConfirm} data-testid="review-confirm">
            {confirmed ? "Confirmed" : "Confirm"}
          </button>
        </div>
      </div>
    </dialog>
  );
}
