/**
 * Row matching: which indexed row belongs to which action, and where the two disagree. Pure
 * functions of their arguments, with no engine state, so the benchmark and the tests call them
 * directly.
 */
import type { Address, Hash } from "viem";
import type { Action, ActionParams, Discrepancy, IndexedRow } from "./types";

/** Compares an indexed row with the action that produced it; the differences, if any. */
export function compareWithIndexed(params: ActionParams, account: Address, row: IndexedRow): Discrepancy[] {
  const out: Discrepancy[] = [];
  const check = (field: string, expected: string, actual: string | undefined) => {
    if (actual !== undefined && expected !== actual) out.push({ field, expected, actual });
  };
  // Amounts are compared as bigints and turned into text only when they differ.
  const checkAmount = (field: string, expected: bigint, actual: bigint | undefined) => {
    if (actual !== undefined && expected !== actual) out.push({ field, expected: expected.toString(), actual: actual.toString() });
  };
  const lower = (a: string) => a.toLowerCase();
  switch (params.kind) {
    case "createChama":
      check("name", params.name, row.name);
      checkAmount("contributionAmount", params.contributionAmount, row.amount);
      check("creator", lower(account), lower(row.account));
      break;
    case "contribution":
      checkAmount("chamaId", params.chamaId, row.chamaId);
      checkAmount("amount", params.amount, row.amount);
      check("contributor", lower(account), lower(row.account));
      break;
    case "payout":
      checkAmount("chamaId", params.chamaId, row.chamaId);
      checkAmount("amount", params.amount, row.amount);
      check("recipient", lower(params.recipient), lower(row.account));
      break;
  }
  return out;
}

/** The first 7 hex digits of a hash as a number, the same in either letter case. */
function hashPrefix(hash: string): number {
  let prefix = 0;
  for (let i = 2; i < 9; i++) {
    const c = hash.charCodeAt(i);
    prefix = prefix * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return prefix;
}

/** Indexed rows grouped by lowercase transaction hash; built once per matching pass.
 * With `hashes` (lowercase), rows of other transactions are left out: no action can match them. */
export function indexRowsByHash(params: { rows: readonly IndexedRow[]; hashes?: ReadonlySet<string> }): Map<Hash, IndexedRow[]> {
  const { rows, hashes } = params;
  // Most rows are of other transactions. A small number from each hash's first digits rules
  // them out without lowercasing and hashing their whole 66-character hash (3x cheaper on
  // freshly fetched rows); the few that pass are checked in full.
  const prefixes = hashes && new Set([...hashes].map(hashPrefix));
  const byHash = new Map<Hash, IndexedRow[]>();
  for (const row of rows) {
    if (prefixes && !prefixes.has(hashPrefix(row.transactionHash))) continue;
    const key = row.transactionHash.toLowerCase() as Hash;
    if (hashes && !hashes.has(key)) continue;
    const list = byHash.get(key);
    if (list) list.push(row);
    else byHash.set(key, [row]);
  }
  return byHash;
}

/** The indexed row of an action: under any of its hashes (oldest first), of the action's kind,
 * with the action's log index when both sides know one. One Map lookup per hash. */
export function findIndexedRow(params: { action: Action; byHash: ReadonlyMap<Hash, readonly IndexedRow[]> }): IndexedRow | undefined {
  const { action, byHash } = params;
  for (const hash of action.hashes) {
    const match = byHash
      .get(hash.toLowerCase() as Hash)
      ?.find(
        (row) => row.kind === action.params.kind && (action.logIndex === undefined || row.logIndex === undefined || row.logIndex === action.logIndex),
      );
    if (match) return match;
  }
  return undefined;
}
