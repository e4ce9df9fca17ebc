/** All chamas, plus the user's chamas still being created, and the create form. */
import { type FormEvent, useState } from "react";
import { useApp } from "../appContext";
import { accountHref, short } from "../format";
import { CHAMAS_QUERY, type ChamasData } from "../queries";
import { useActions } from "../sync/react";
import { formatAmount, readAmount } from "../units";
import { ActionRows } from "./ActionRows";
import { type Review, ReviewDialog } from "./LazyReviewDialog";
import { useIndexedQuery } from "../hooks/useIndexedQuery";
import { MAX_NAME_BYTES, nameBytes } from "../../../common/chain";

export function ChamaList() {
  const { unit } = useApp();
  const result = useIndexedQuery<ChamasData, Record<string, never>>({ query: CHAMAS_QUERY, variables: {} });
  const actions = useActions();
  const items = result.data?.chamas.items ?? [];
  const indexedHashes = new Set(items.map((c) => c.createdTxHash.toLowerCase()));
  const open = actions.filter(
    (a) => a.params.kind === "createChama" && !(a.status === "reconciled" && a.hash && indexedHashes.has(a.hash.toLowerCase())),
  );

  return (
    <section>
      <h1>Chamas</h1>
      {result.error ? <p className="error">Could not load chamas: {result.error.message}</p> : null}
      {result.fetching && !result.data ? <p className="muted">Loading chamas…</p> : null}
      <table className="rows" data-testid="chama-list">
        <thead>
          <tr>
            <th scope="col">Chama</th>
            <th scope="col">Admin</th>
            <th scope="col" className="amount">Balance</th>
            <th scope="col" className="amount">Minimum</th>
            <th scope="col">Members</th>
            <th scope="col">Contributions</th>
          </tr>
        </thead>
        <tbody>
          <ActionRows actions={open} columns={6} testId="chama-action-row" />
          {items.map((chama) => (
            <tr key={chama.id} data-testid="chama-row">
              <td className="name-cell wide">
                {/* Names mined before the contract's limit can be long: cut with an ellipsis, whole in the title. */}
                <a href={`#/chama/${chama.id}`} className="truncate" title={chama.name} data-testid="chama-name">
                  #{chama.id} {chama.name}
                </a>
              </td>
              <td data-label="Admin">
                <a href={accountHref(chama.creator)}>{short(chama.creator)}</a>
              </td>
              <td className="amount" data-label="Balance">{formatAmount(BigInt(chama.balance), unit)}</td>
              <td className="amount" data-label="Minimum">{formatAmount(BigInt(chama.contributionAmount), unit)}</td>
              <td data-label="Members">{chama.memberCount}</td>
              <td data-label="Contributions">{chama.contributionCount}</td>
            </tr>
          ))}
          {result.data && items.length === 0 ? (
            <tr>
              <td colSpan={6} className="muted">
                No chamas yet: create the first one below.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <CreateChamaForm />
    </section>
  );
}

function CreateChamaForm() {
  const { unit, wallet } = useApp();
  const [name, setName] = useState("");
  const [minimum, setMinimum] = useState("0");
  // Counted as the contract counts it (Chama.sol's EmptyName and NameTooLong): UTF-8 bytes of
  // the name as sent, trimmed.
  const trimmed = name.trim();
  const bytes = nameBytes(trimmed);
  const tooLong = bytes > MAX_NAME_BYTES;
  const sendable = bytes > 0 && !tooLong;

  // The minimum is checked as it is typed (units.ts's one rule); nothing opens while it is wrong.
  const typedMinimum = readAmount(minimum, unit);
  const [review, setReview] = useState<Review>();

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    // The button is disabled then, but Enter in a field submits too: send nothing.
    if (!sendable || typedMinimum.error) return;
    // Nothing is sent until the review's Confirm.
    setReview({ params: { kind: "createChama", name: trimmed, contributionAmount: typedMinimum.amount } });
  };

  return (
    <form className="panel form" onSubmit={onSubmit}>
      <h2>Create a chama</h2>
      <label>
        Name{" "}
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Mama Mboga Savers"
          aria-invalid={tooLong ? true : undefined}
          aria-describedby={tooLong ? "chama-name-bytes chama-name-error" : "chama-name-bytes"}
          data-testid="chama-name-input"
        />{" "}
        <span id="chama-name-bytes" className={`small ${tooLong ? "error" : "muted"}`} data-testid="chama-name-bytes">
          {bytes}/{MAX_NAME_BYTES} bytes
        </span>
      </label>
      {tooLong ? (
        <p id="chama-name-error" className="error" data-testid="chama-name-error">
          Too long: {bytes} bytes. A name can have at most {MAX_NAME_BYTES} bytes (accented letters and emoji take 2 to 4 each).
        </p>
      ) : null}
      <label>
        Minimum contribution ({unit}){" "}
        <input
          value={minimum}
          onChange={(e) => setMinimum(e.target.value)}
          inputMode="decimal"
          aria-invalid={typedMinimum.error ? true : undefined}
          aria-describedby={typedMinimum.error ? "chama-minimum-error" : undefined}
          data-testid="chama-minimum-input"
        />
      </label>
      {typedMinimum.error ? (
        <p id="chama-minimum-error" className="error small" data-testid="chama-minimum-error">
          {typedMinimum.error.message}
        </p>
      ) : null}
      <button type="submit" disabled={!wallet || !sendable || typedMinimum.error !== undefined} data-testid="create-chama-button">
        Create
      </button>
      {review ? <ReviewDialog review={review} onClose={() => setReview(undefined)} onSent={() => setName("")} /> : null}
    </form>
  );
}
