/**
 * Checks before anything is signed, against what the index and the chain already know: the
 * chama's minimum, its balance and admin, the account's balance, and the recipient address.
 * Pure; each problem is a sentence in the chosen unit, in the contract's own words where the
 * contract would refuse (chamaErrors.ts).
 */
import { type Address, getAddress, isAddress, zeroAddress } from "viem";
import { chamaErrorSentence } from "./chamaErrors";
import type { ActionParams } from "./sync/types";
import { type Unit, formatAmount } from "./units";
import { JengaError } from "../../common/errors";

export class AddressError extends JengaError {
  override name = "AddressError";
  override readonly expected = true;
}

/**
 * Reads a typed recipient: 0x and 40 hex digits, in all-lowercase, all-uppercase or correctly
 * checksummed mixed case; returns it checksummed. A mixed-case address whose checksum is
 * wrong is refused (one mistyped letter would send to a different account).
 */
export function parseRecipient(text: string): Address {
  const clean = text.trim().replace(/^0X/, "0x");
  if (clean === "") throw new AddressError("Type the recipient's address: 0x followed by 40 hex digits.");
  if (!isAddress(clean, { strict: false })) {
    const digits = clean.startsWith("0x") ? clean.length - 2 : clean.length;
    throw new AddressError(
      /^(0x)?[0-9a-fA-F]*$/.test(clean)
        ? `Not an address: an address is 0x followed by 40 hex digits; this has ${digits}${clean.startsWith("0x") ? "" : " and no 0x"}.`
        : "Not an address: an address is 0x followed by 40 hex digits (0-9 and a-f), with no spaces or other characters.",
    );
  }
  const hex = clean.slice(2);
  const oneCase = hex === hex.toLowerCase() || hex === hex.toUpperCase();
  if (!oneCase && !isAddress(clean, { strict: true })) {
    throw new AddressError(
      "This address mixes upper and lower case, but its checksum is wrong: a letter may be mistyped. Paste it again from the member's wallet, or type it all in lowercase.",
    );
  }
  const address = getAddress(clean.toLowerCase());
  if (address === zeroAddress) throw new AddressError(chamaErrorSentence({ name: "ZeroRecipient", args: [], unit: "wei" }));
  return address;
}

/** What the index knows of the chama an action is for. */
export type ChamaFacts = { id: bigint; name: string; minimum: bigint; balance: bigint; admin: string };

/** Wei the account sends with the call (the contribution; a payout comes from the pot). */
export function valueOf(params: ActionParams): bigint {
  return params.kind === "contribution" ? params.amount : 0n;
}

export type CheckActionParameters = {
  params: ActionParams;
  unit: Unit;
  chama?: ChamaFacts | undefined;
  /** The signing account. */
  account?: Address | undefined;
  /** The account's balance, once the chain has said. */
  balance?: bigint | undefined;
  /** The fee estimate, once known. */
  fee?: bigint | undefined;
};

/** Every reason the action would be refused or could not be paid, as sentences; [] if none. */
export function checkAction(p: CheckActionParameters): string[] {
  const { params, unit, chama } = p;
  const problems: string[] = [];
  if (params.kind === "contribution") {
    if (params.amount === 0n) problems.push("A contribution must be more than zero.");
    else if (chama && params.amount < chama.minimum) {
      problems.push(chamaErrorSentence({ name: "BelowMinimum", args: [params.amount, chama.minimum], unit }));
    }
  }
  if (params.kind === "payout") {
    if (chama && p.account && p.account.toLowerCase() !== chama.admin.toLowerCase()) {
      problems.push(chamaErrorSentence({ name: "NotAdmin", args: [p.account, chama.admin], unit }));
    }
    if (params.recipient === zeroAddress) problems.push(chamaErrorSentence({ name: "ZeroRecipient", args: [], unit }));
    if (params.amount === 0n) problems.push("A payout must be more than zero.");
    else if (chama && params.amount > chama.balance) {
      problems.push(chamaErrorSentence({ name: "InsufficientBalance", args: [params.amount, chama.balance], unit }));
    }
  }
  if (p.balance !== undefined) {
    const value = valueOf(params);
    const cost = value + (p.fee ?? 0n);
    if (cost > p.balance) {
      const what =
        value > 0n
          ? `${formatAmount(value, unit)}${p.fee === undefined ? "" : ` plus a fee of about ${formatAmount(p.fee, unit)}`}`
          : `the fee of about ${formatAmount(p.fee ?? 0n, unit)}`;
      problems.push(`This account holds ${formatAmount(p.balance, unit)}; ${what} is more than that.`);
    }
  }
  return problems;
}
