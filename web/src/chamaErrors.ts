/**
 * The Chama contract's custom errors as sentences a member can act on, amounts in the unit
 * they chose. Pure: takes revert data, a viem error, or a message that carries the engine's
 * `ErrorName(arg, …)` form ("would revert: BelowMinimum(10000000000000, 100000000000000)"),
 * and returns the sentence, or undefined when it is not one of the contract's errors.
 */
import { type ContractErrorName, type Hex, BaseError, decodeErrorResult, getAddress, isAddress, isHex } from "viem";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { short } from "./format";
import { type Unit, formatAmount } from "./units";
import { errorMessage } from "../../common/errors";

export type ChamaErrorName = ContractErrorName<typeof ChamaAbi>;
type Arg = bigint | string;

const amount = (value: Arg | undefined, unit: Unit) => (typeof value === "bigint" ? formatAmount(value, unit) : "an amount");
const who = (value: Arg | undefined) => (typeof value === "string" ? short(value) : "an account");

/** One sentence per error of abis/ChamaAbi.ts; the Record makes a new error a type error here. */
const SENTENCES: Record<ChamaErrorName, (args: readonly Arg[], unit: Unit) => string> = {
  UnknownChama: ([id]) => `There is no chama #${String(id)} on the chain.`,
  ZeroAmount: () => "The amount must be more than zero.",
  BelowMinimum: ([sent, minimum], unit) => `This chama's minimum is ${amount(minimum, unit)}; ${amount(sent, unit)} would be refused.`,
  NotAdmin: ([caller, admin]) => `Only the chama's admin (${who(admin)}) can pay out; this account is ${who(caller)}.`,
  InsufficientBalance: ([requested, available], unit) =>
    `The chama holds ${amount(available, unit)}; a payout of ${amount(requested, unit)} is more than that.`,
  ZeroRecipient: () => "The recipient is the zero address: enter the member's address.",
  TransferFailed: ([recipient]) => `The recipient ${who(recipient)} refused the transfer (a contract that does not accept coin); pay another address.`,
  Reentrancy: () => "The payout was entered again during its own transfer, and the contract refused it.",
  EmptyName: () => "A chama needs a name.",
  NameTooLong: ([length, max]) => `The name is ${String(length)} bytes; a chama's name can have at most ${String(max)} bytes.`,
};

const ERRORS = ChamaAbi.filter((item) => item.type === "error");

/** The sentence for one of the contract's errors, from its arguments (the form checks say
 * what the contract would say, in the same words). */
export function chamaErrorSentence<N extends ChamaErrorName>(params: { name: N; args: readonly Arg[]; unit: Unit }): string {
  return SENTENCES[params.name](params.args, params.unit);
}

function sentence(name: string, args: readonly unknown[], unit: Unit): string | undefined {
  const describe = (SENTENCES as Record<string, ((args: readonly Arg[], unit: Unit) => string) | undefined>)[name];
  if (!describe) return undefined;
  return describe(args.map((a) => (typeof a === "bigint" ? a : String(a))), unit);
}

function fromData(data: Hex, unit: Unit): string | undefined {
  if (data.length < 10) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: ChamaAbi, data });
    return sentence(decoded.errorName, decoded.args ?? [], unit);
  } catch {
    // Not one of the contract's errors.
    return undefined;
  }
}

/** "BelowMinimum(1, 2)" inside a message, with its arguments read back by the ABI's types. */
function fromText(text: string, unit: Unit): string | undefined {
  for (const error of ERRORS) {
    const match = new RegExp(`\\b${error.name}\\(([^)]*)\\)`).exec(text);
    if (!match) continue;
    const raw = match[1]!.trim() === "" ? [] : match[1]!.split(",").map((s) => s.trim());
    if (raw.length !== error.inputs.length) continue;
    const args: Arg[] = [];
    for (const [i, input] of error.inputs.entries()) {
      const value = raw[i]!;
      if (input.type === "uint256" && /^\d+$/.test(value)) args.push(BigInt(value));
      else if (input.type === "address" && isAddress(value, { strict: false })) args.push(getAddress(value.toLowerCase()));
      else break;
    }
    if (args.length === error.inputs.length) return sentence(error.name, args, unit);
  }
  return undefined;
}

/** The revert data a viem error carries somewhere down its causes. */
function revertData(error: BaseError): Hex | undefined {
  let found: Hex | undefined;
  error.walk((e) => {
    const { raw, data } = e as { raw?: unknown; data?: unknown };
    const hex = [raw, data].find((v): v is Hex => typeof v === "string" && isHex(v) && v.length >= 10);
    if (hex) found = hex;
    return hex !== undefined;
  });
  return found;
}

/** The Chama error in `error` as a sentence, or undefined if it carries none. */
export function decodeChamaError(params: { error: unknown; unit: Unit }): string | undefined {
  const { error, unit } = params;
  if (typeof error === "string") return isHex(error) ? fromData(error, unit) : fromText(error, unit);
  if (error instanceof BaseError) {
    const data = revertData(error);
    const decoded = data ? fromData(data, unit) : undefined;
    return decoded ?? fromText(`${error.shortMessage} ${error.details}`, unit) ?? fromText(error.message, unit);
  }
  if (error instanceof Error) return fromText(error.message, unit);
  return undefined;
}

/** The sentence for a Chama error, else the error's own short message. */
export function explainError(params: { error: unknown; unit: Unit }): string {
  return decodeChamaError(params) ?? (params.error instanceof BaseError ? params.error.shortMessage : errorMessage(params.error));
}
