/** Every GraphQL query the app runs, as module-level constants (stable keys for urql's cache). */
import { gql } from "urql";

export const CHAMAS_QUERY = gql`
  query Chamas {
    chamas(orderBy: "id", orderDirection: "asc", limit: 100) {
      items { id name creator contributionAmount totalContributed balance memberCount contributionCount payoutCount createdTxHash }
    }
    _meta { status }
  }
`;

export const CHAMA_QUERY = gql`
  query Chama($id: BigInt!) {
    chama(id: $id) {
      id name creator contributionAmount totalContributed totalPaidOut balance memberCount contributionCount payoutCount
      contributions(orderBy: "blockNumber", orderDirection: "desc", limit: 50) {
        items { id contributor amount timestamp blockNumber transactionHash logIndex }
      }
      payouts(orderBy: "blockNumber", orderDirection: "desc", limit: 50) {
        items { id recipient amount timestamp blockNumber transactionHash logIndex }
      }
      members(orderBy: "totalContributed", orderDirection: "desc", limit: 100) {
        items { address totalContributed totalReceived contributionCount }
      }
      days(orderBy: "day", orderDirection: "desc", limit: 60) {
        items { day contributed paidOut contributionCount }
      }
    }
    _meta { status }
  }
`;

/** One address: the chamas it administers (with their payouts, which only the admin can make),
 * its memberships and the events it took part in, each with its chama's name. Every list is
 * its newest first, so the newest 50 of their union are exactly the address's newest 50. */
export const ACCOUNT_QUERY = gql`
  query Account($id: String!) {
    account(id: $id) { id totalContributed totalReceived contributionCount payoutCount chamaCount }
    administered: chamas(where: { creator: $id }, orderBy: "id", orderDirection: "desc", limit: 100) {
      items {
        id name contributionAmount balance memberCount createdAtBlock createdTxHash
        payouts(orderBy: "blockNumber", orderDirection: "desc", limit: 50) {
          items { id recipient amount timestamp blockNumber transactionHash logIndex }
        }
      }
    }
    members(where: { address: $id }, orderBy: "chamaId", orderDirection: "asc", limit: 100) {
      items { chamaId totalContributed totalReceived contributionCount payoutCount chama { name } }
    }
    contributions(where: { contributor: $id }, orderBy: "blockNumber", orderDirection: "desc", limit: 50) {
      items { id chamaId amount timestamp blockNumber transactionHash logIndex chama { name } }
    }
    payouts(where: { recipient: $id }, orderBy: "blockNumber", orderDirection: "desc", limit: 50) {
      items { id chamaId amount timestamp blockNumber transactionHash logIndex chama { name } }
    }
    _meta { status }
  }
`;

/** The names of a few chamas, for the toasts' words (a name never changes once indexed). */
export const CHAMA_NAMES_QUERY = gql`
  query ChamaNames($ids: [BigInt!]!) {
    chamas(where: { id_in: $ids }, limit: 100) {
      items { id name }
    }
  }
`;
export type ChamaNamesData = { chamas: { items: { id: string; name: string }[] } };

/** GraphQL's shapes: bigints as decimal strings, addresses lowercase. */
export type ChamaItem = {
  id: string;
  name: string;
  creator: string;
  contributionAmount: string;
  totalContributed: string;
  balance: string;
  memberCount: number;
  contributionCount: number;
  payoutCount: number;
  createdTxHash: string;
};
export type EventItem = { id: string; amount: string; timestamp: string; blockNumber: string; transactionHash: string; logIndex: number };
export type Meta = { status: Record<string, { id: number; block: { number: number; timestamp: number } | null }> | null };
export type ChamasData = { chamas: { items: ChamaItem[] }; _meta: Meta | null };
export type ChamaData = {
  chama:
    | (ChamaItem & {
        totalPaidOut: string;
        contributions: { items: (EventItem & { contributor: string })[] };
        payouts: { items: (EventItem & { recipient: string })[] };
        members: { items: { address: string; totalContributed: string; totalReceived: string; contributionCount: number }[] };
        days: { items: { day: number; contributed: string; paidOut: string; contributionCount: number }[] };
      })
    | null;
  _meta: Meta | null;
};
/** The chama's name, through the event's or membership's relation. */
type WithChama = { chamaId: string; chama: { name: string } | null };
export type AccountData = {
  account: { id: string; totalContributed: string; totalReceived: string; contributionCount: number; payoutCount: number; chamaCount: number } | null;
  administered: {
    items: {
      id: string;
      name: string;
      contributionAmount: string;
      balance: string;
      memberCount: number;
      createdAtBlock: string;
      createdTxHash: string;
      payouts: { items: (EventItem & { recipient: string })[] };
    }[];
  };
  members: { items: (WithChama & { totalContributed: string; totalReceived: string; contributionCount: number; payoutCount: number })[] };
  contributions: { items: (EventItem & WithChama)[] };
  payouts: { items: (EventItem & WithChama)[] };
  _meta: Meta | null;
};
