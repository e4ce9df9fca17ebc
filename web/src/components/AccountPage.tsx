/** One address: totals across chamas, memberships, its indexed contributions, and (for the
 * connected account) every action it has made with its status. */
import { useApp } from "../appContext";
import { sameAddress, short } from "../format";
import { ACCOUNT_QUERY, type AccountData } from "../queries";
import { useActions } from "../sync/react";
import { formatAmount } from "../units";
import { ActionRows } from "./ActionRows";
import { useIndexedQuery } from "../hooks/useIndexedQuery";

export function AccountPage({ address }: { address: string }) {
  const { unit, wallet } = useApp();
  const result = useIndexedQuery<AccountData, { id: string }>({ query: ACCOUNT_QUERY, variables: { id: address.toLowerCase() } });
  const actions = useActions().filter((a) => sameAddress(a.account, address));
  const own = sameAddress(wallet?.address, address);

  if (result.error) return <p className="error">Could not load the account: {result.error.message}</p>;
  if (!result.data) return <p className="muted">Loading account…</p>;
  const account = result.data.account;

  return (
    <section>
      <h1>
        Account <code>{short(address)}</code> {own ? <span className="badge">you</span> : null}
      </h1>
      {account ? (
        <div className="stats">
          <div>
            <span className="label">Contributed</span>
            {formatAmount(BigInt(account.totalContributed), unit)}
          </div>
          <div>
            <span className="label">Received</span>
            {formatAmount(BigInt(account.totalReceived), unit)}
          </div>
          <div>
            <span className="label">Chamas</span>
            {account.chamaCount}
          </div>
          <div>
            <span className="label">Contributions</span>
            {account.contributionCount}
          </div>
        </div>
      ) : (
        <p className="muted">No indexed activity for this address yet.</p>
      )}

      {actions.length > 0 ? (
        <>
          <h2>Your actions</h2>
          <table className="rows">
            <tbody>
              <ActionRows actions={[...actions].reverse()} columns={4} testId="account-action-row" />
            </tbody>
          </table>
        </>
      ) : null}

      <h2>Memberships</h2>
      <table className="rows">
        <thead>
          <tr>
            <th>Chama</th>
            <th className="amount">Contributed</th>
            <th className="amount">Received</th>
          </tr>
        </thead>
        <tbody>
          {result.data.members.items.map((m) => (
            <tr key={m.chamaId}>
              <td>
                <a href={`#/chama/${m.chamaId}`}>#{m.chamaId}</a>
              </td>
              <td className="amount">{formatAmount(BigInt(m.totalContributed), unit)}</td>
              <td className="amount">{formatAmount(BigInt(m.totalReceived), unit)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Contributions</h2>
      <table className="rows">
        <tbody>
          {result.data.contributions.items.map((c) => (
            <tr key={c.id}>
              <td>
                <a href={`#/chama/${c.chamaId}`}>#{c.chamaId}</a>
              </td>
              <td className="amount">{formatAmount(BigInt(c.amount), unit)}</td>
              <td>block {c.blockNumber}</td>
              <td>
                <code>{short(c.transactionHash)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
