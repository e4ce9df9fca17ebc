/** Every custom error of the Chama ABI as a sentence, from revert data, a viem error or the
 * engine's stored `ErrorName(args)` message, with amounts in the chosen unit. */
import { BaseError, CallExecutionError, ContractFunctionRevertedError, RpcRequestError, encodeErrorResult, type Hex } from "viem";
import { describe, expect, test } from "vitest";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { type ChamaErrorName, decodeChamaError, explainError } from "../../web/src/chamaErrors";
import { SAT } from "../../common/chain";
import type { Unit } from "../../web/src/units";

const ADMIN = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CALLER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/** Each error with its arguments and the sentence expected in sats, ether and wei. */
const CASES: { name: ChamaErrorName; args: readonly unknown[]; sats: string; ether?: string; wei?: string }[] = [
  {
    name: "BelowMinimum",
    args: [1_000n * SAT, 10_000n * SAT],
    sats: "This chama's minimum is 10,000 sats; 1,000 sats would be refused.",
    ether: "This chama's minimum is 0.0001 ETH; 0.00001 ETH would be refused.",
    wei: "This chama's minimum is 100,000,000,000,000 wei; 10,000,000,000,000 wei would be refused.",
  },
  { name: "EmptyName", args: [], sats: "A chama needs a name." },
  {
    name: "InsufficientBalance",
    args: [15n * SAT, 5n * SAT],
    sats: "The chama holds 5 sats; a payout of 15 sats is more than that.",
    ether: "The chama holds 0.00000005 ETH; a payout of 0.00000015 ETH is more than that.",
  },
  { name: "NameTooLong", args: [68n, 64n], sats: "The name is 68 bytes; a chama's name can have at most 64 bytes." },
  { name: "NotAdmin", args: [CALLER, ADMIN], sats: "Only the chama's admin (0x7099…79C8) can pay out; this account is 0x3C44…93BC." },
  { name: "Reentrancy", args: [], sats: "The payout was entered again during its own transfer, and the contract refused it." },
  {
    name: "TransferFailed",
    args: [ADMIN],
    sats: "The recipient 0x7099…79C8 refused the transfer (a contract that does not accept coin); pay another address.",
  },
  { name: "UnknownChama", args: [7n], sats: "There is no chama #7 on the chain." },
  { name: "ZeroAmount", args: [], sats: "The amount must be more than zero." },
  { name: "ZeroRecipient", args: [], sats: "The recipient is the zero address: enter the member's address." },
];

const data = (name: ChamaErrorName, args: readonly unknown[]): Hex =>
  encodeErrorResult({ abi: ChamaAbi, errorName: name, args: args as never });

/** What the engine stores for a revert: revertReason()'s `Name(arg, arg)` form. */
const stored = (name: string, args: readonly unknown[]) => `would revert: ${name}(${args.map((a) => String(a)).join(", ")})`;

describe("decodeChamaError", () => {
  test("covers every custom error in abis/ChamaAbi.ts", () => {
    const inAbi = ChamaAbi.filter((item) => item.type === "error").map((item) => item.name).sort();
    expect(CASES.map((c) => c.name).sort()).toEqual(inAbi);
  });

  for (const c of CASES) {
    test(`${c.name}: from revert data, a viem error and a stored message`, () => {
      const units: [Unit, string | undefined][] = [["sats", c.sats], ["ether", c.ether], ["wei", c.wei]];
      for (const [unit, expected] of units) {
        if (expected === undefined) continue;
        expect(decodeChamaError({ error: data(c.name, c.args), unit })).toBe(expected);
        expect(decodeChamaError({ error: stored(c.name, c.args), unit })).toBe(expected);
      }
      // What viem throws from simulateContract/writeContract, and from a raw eth_call.
      const reverted = new ContractFunctionRevertedError({ abi: ChamaAbi, data: data(c.name, c.args), functionName: "payout" });
      expect(decodeChamaError({ error: reverted, unit: "sats" })).toBe(c.sats);
      const rpc = new RpcRequestError({ body: {}, url: "http://rpc", error: { code: 3, message: "execution reverted", data: data(c.name, c.args) } });
      expect(decodeChamaError({ error: new CallExecutionError(rpc, {}), unit: "sats" })).toBe(c.sats);
      expect(decodeChamaError({ error: new Error(stored(c.name, c.args)), unit: "sats" })).toBe(c.sats);
    });
  }

  test("not one of the contract's errors: undefined, and explainError falls back to the message", () => {
    const other = encodeErrorResult({
      abi: [{ type: "error", name: "Other", inputs: [{ name: "x", type: "uint256" }] }],
      errorName: "Other",
      args: [1n],
    });
    expect(decodeChamaError({ error: other, unit: "sats" })).toBeUndefined();
    expect(decodeChamaError({ error: "0x", unit: "sats" })).toBeUndefined();
    expect(decodeChamaError({ error: "timed out after 600 s", unit: "sats" })).toBeUndefined();
    expect(decodeChamaError({ error: "would revert: BelowMinimum(1)", unit: "sats" })).toBeUndefined();
    expect(decodeChamaError({ error: 42, unit: "sats" })).toBeUndefined();
    expect(explainError({ error: new BaseError("nonce too low"), unit: "sats" })).toBe("nonce too low");
    expect(explainError({ error: new Error("user rejected"), unit: "sats" })).toBe("user rejected");
  });

  test("amounts stay exact beyond 2^53", () => {
    const huge = 2n ** 70n + 1n;
    expect(decodeChamaError({ error: data("InsufficientBalance", [huge, 1n]), unit: "wei" })).toBe(
      "The chama holds 1 wei; a payout of 1,180,591,620,717,411,303,425 wei is more than that.",
    );
  });
});
