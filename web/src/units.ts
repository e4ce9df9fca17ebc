/**
 * Amounts are bigints in wei everywhere; units only change how they are typed and shown.
 * 1 sat = 10^10 wei (`SAT` in common/chain.ts).
 */
import { formatUnits, parseUnits } from "viem";
import { JengaError } from "../../common/errors";

export type Unit = "wei" | "sats" | "ether";
export const UNITS: Unit[] = ["sats", "ether", "wei"];

const DECIMALS: Record<Unit, number> = { wei: 0, sats: 10, ether: 18 };
const LABEL: Record<Unit, string> = { wei: "wei", sats: "sats", ether: "ETH" };

/** Formats wei in the unit, with thousands separators on the whole part. */
export function formatAmount(wei: bigint, unit: Unit): string {
  const text = formatUnits(wei, DECIMALS[unit]);
  const [whole = "0", fraction] = text.split(".");
  const negative = whole.startsWith("-");
  const digits = negative ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""} ${LABEL[unit]}`;
}

export class AmountError extends JengaError {
  override name = "AmountError";
}

/** Parses user input in the unit to wei. Rejects empty, negative, malformed and sub-wei input. */
export function parseAmount(text: string, unit: Unit): bigint {
  const clean = text.trim().replace(/[,_\s]/g, "");
  if (!/^\d+(\.\d+)?$/.test(clean)) throw new AmountError(`"${text}" is not an amount in ${LABEL[unit]}`);
  const fraction = clean.split(".")[1];
  if (fraction && fraction.replace(/0+$/, "").length > DECIMALS[unit]) {
    throw new AmountError(`${LABEL[unit]} has at most ${DECIMALS[unit]} decimals`);
  }
  return parseUnits(clean, DECIMALS[unit]);
}
