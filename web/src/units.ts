/**
 * Amounts are bigints in wei everywhere; units only change how they are typed and shown.
 * 1 sat = 10^10 wei (`SAT` in common/chain.ts).
 *
 * The one rule for typing an amount: digits with at most one decimal point, and no more
 * digits after the point than the unit has (sats 10, ETH 18, wei none). Whitespace around it
 * is ignored. Anything else (a comma, a space or an underscore inside, an exponent, a sign)
 * is refused with a message that says what to type instead; nothing is guessed.
 */
import { formatUnits, parseUnits } from "viem";
import { JengaError } from "../../common/errors";

export type Unit = "wei" | "sats" | "ether";
export const UNITS: Unit[] = ["sats", "ether", "wei"];

export const DECIMALS: Record<Unit, number> = { wei: 0, sats: 10, ether: 18 };
export const LABEL: Record<Unit, string> = { wei: "wei", sats: "sats", ether: "ETH" };

/** Formats wei in the unit, with thousands separators on the whole part. */
export function formatAmount(wei: bigint, unit: Unit): string {
  const text = formatUnits(wei, DECIMALS[unit]);
  const [whole = "0", fraction] = text.split(".");
  const negative = whole.startsWith("-");
  const digits = negative ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""} ${LABEL[unit]}`;
}

/** What is wrong with a typed amount. */
export type AmountProblem = "empty" | "sign" | "exponent" | "comma" | "underscore" | "space" | "points" | "characters" | "decimals";

export class AmountError extends JengaError {
  override name = "AmountError";
  override readonly expected = true;
  readonly problem: AmountProblem;

  constructor(params: { problem: AmountProblem; message: string; input: string; unit: Unit }) {
    super(params.message, { details: { input: params.input, unit: params.unit } });
    this.problem = params.problem;
  }
}

function problemOf(clean: string, unit: Unit): { problem: AmountProblem; message: string } | undefined {
  if (clean === "") return { problem: "empty", message: `Type an amount in ${LABEL[unit]}, for example 1.5.` };
  if (/^[+-]/.test(clean)) {
    return clean.startsWith("-")
      ? { problem: "sign", message: `An amount cannot be negative: remove the minus sign and write ${clean.slice(1) || "1.5"}.` }
      : { problem: "sign", message: `Remove the plus sign: write ${clean.slice(1) || "1.5"}, not ${clean}.` };
  }
  if (/^[\d.]*\d[\d.]*[eE][+-]?\d*$/.test(clean)) {
    return { problem: "exponent", message: `Write the amount in plain digits: exponents such as ${clean} are not accepted (write 1000, not 1e3).` };
  }
  if (clean.includes(",")) {
    return { problem: "comma", message: "Use a point for decimals: write 1.5, not 1,5. Thousands separators are not accepted." };
  }
  if (clean.includes("_")) {
    return { problem: "underscore", message: "Remove the underscores: write 1000, not 1_000. Thousands separators are not accepted." };
  }
  if (/\s/.test(clean)) {
    return { problem: "space", message: "Remove the spaces: write 1000, not 1 000. Thousands separators are not accepted." };
  }
  if ((clean.match(/\./g) ?? []).length > 1) {
    return { problem: "points", message: `Use at most one decimal point: "${clean}" has ${(clean.match(/\./g) ?? []).length}.` };
  }
  if (!/^\d*\.?\d*$/.test(clean) || !/\d/.test(clean)) {
    const odd = /[^\d.]/.exec(clean)?.[0];
    return {
      problem: "characters",
      message: `Use only digits and one decimal point${odd ? `: "${odd}" is not accepted` : ""}; for example 1.5.`,
    };
  }
  const decimals = clean.split(".")[1]?.length ?? 0;
  if (decimals > DECIMALS[unit]) {
    return {
      problem: "decimals",
      message:
        DECIMALS[unit] === 0
          ? `wei has no decimals: write a whole number of wei (${clean.split(".")[0] || "0"}, not ${clean}).`
          : `Amounts in ${LABEL[unit]} have at most ${DECIMALS[unit]} decimals; ${clean} has ${decimals}. Round it, or switch the unit to wei for finer amounts.`,
    };
  }
  return undefined;
}

/** Parses what a person typed, in the unit, to wei (exact: no float anywhere). Throws an
 * AmountError that says what is wrong and what to type instead. */
export function parseAmount(text: string, unit: Unit): bigint {
  const clean = text.trim();
  const problem = problemOf(clean, unit);
  if (problem) throw new AmountError({ ...problem, input: text, unit });
  return parseUnits(clean, DECIMALS[unit]);
}

/** parseAmount without the throw: the amount, or the error to show under the input. */
export function readAmount(text: string, unit: Unit): { amount: bigint; error?: undefined } | { amount?: undefined; error: AmountError } {
  try {
    return { amount: parseAmount(text, unit) };
  } catch (error) {
    if (error instanceof AmountError) return { error };
    throw error;
  }
}
