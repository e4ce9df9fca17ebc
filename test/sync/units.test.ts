/** Units: bigint in, bigint out; sats are 10^10 wei; nothing goes through a float. */
import { describe, expect, test } from "vitest";
import { readConfig } from "../../web/src/config";
import { SAT } from "../../common/chain";
import { AmountError, type AmountProblem, type Unit, formatAmount, parseAmount } from "../../web/src/units";

describe("units", () => {
  test("1 sat is 10^10 wei, and the stack preset is 10^13 wei", () => {
    expect(SAT).toBe(10_000_000_000n);
    expect(parseAmount("1000", "sats")).toBe(10_000_000_000_000n);
    expect(formatAmount(10_000_000_000_000n, "sats")).toBe("1,000 sats");
    expect(formatAmount(10_000_000_000_000n, "ether")).toBe("0.00001 ETH");
    expect(formatAmount(10_000_000_000_000n, "wei")).toBe("10,000,000,000,000 wei");
  });

  test("exact beyond 2^53 in every unit", () => {
    const huge = 2n ** 64n + 12_345n;
    for (const unit of ["wei", "sats", "ether"] as const) {
      // formatAmount groups thousands for reading; what a person types has no separators.
      const text = formatAmount(huge, unit).replace(/ .*$/, "").replaceAll(",", "");
      expect(parseAmount(text, unit)).toBe(huge);
      expect(parseAmount(` ${text}\t`, unit)).toBe(huge);
    }
    expect(parseAmount("9007199254740993", "wei")).toBe(9_007_199_254_740_993n);
    expect(parseAmount("0.000000000000000001", "ether")).toBe(1n);
    expect(parseAmount("1.5", "sats")).toBe(15_000_000_000n);
    expect(parseAmount(".5", "sats")).toBe(5_000_000_000n);
    expect(parseAmount("0", "sats")).toBe(0n);
  });

  /** Parses and returns the AmountError it throws. */
  function refusal(text: string, unit: Unit): AmountError {
    try {
      parseAmount(text, unit);
    } catch (error) {
      if (error instanceof AmountError) return error;
      throw error;
    }
    throw new Error(`parseAmount(${JSON.stringify(text)}, "${unit}") did not throw`);
  }

  const refused: { text: string; problem: AmountProblem; message: RegExp }[] = [
    { text: "1,5", problem: "comma", message: /^Use a point for decimals: write 1\.5, not 1,5\. Thousands separators are not accepted\.$/ },
    { text: "1,000", problem: "comma", message: /^Use a point for decimals: write 1\.5, not 1,5\. Thousands separators are not accepted\.$/ },
    { text: "1,000.5", problem: "comma", message: /Thousands separators are not accepted/ },
    { text: "1 000", problem: "space", message: /^Remove the spaces: write 1000, not 1 000\./ },
    { text: "1\u00a0000", problem: "space", message: /Remove the spaces/ },
    { text: "1_000", problem: "underscore", message: /^Remove the underscores: write 1000, not 1_000\./ },
    { text: "1e3", problem: "exponent", message: /exponents such as 1e3 are not accepted \(write 1000, not 1e3\)/ },
    { text: "1.5E-2", problem: "exponent", message: /exponents such as 1\.5E-2 are not accepted/ },
    { text: "-5", problem: "sign", message: /^An amount cannot be negative: remove the minus sign and write 5\.$/ },
    { text: "+5", problem: "sign", message: /^Remove the plus sign: write 5, not \+5\.$/ },
    { text: "1.2.3", problem: "points", message: /^Use at most one decimal point: "1\.2\.3" has 2\.$/ },
    { text: "abc", problem: "characters", message: /"a" is not accepted/ },
    { text: "5 ETH", problem: "space", message: /Remove the spaces/ },
    { text: "$5", problem: "characters", message: /"\$" is not accepted/ },
    { text: ".", problem: "characters", message: /Use only digits/ },
    { text: "", problem: "empty", message: /^Type an amount in/ },
    { text: "   ", problem: "empty", message: /^Type an amount in/ },
  ];

  for (const unit of ["sats", "ether", "wei"] as const) {
    test(`in ${unit}: refuses every other form, saying what to type instead`, () => {
      for (const { text, problem, message } of refused) {
        const error = refusal(text, unit);
        expect({ text, problem: error.problem }).toEqual({ text, problem });
        expect(error.message).toMatch(message);
      }
    });
  }

  test("refuses more decimals than the unit has", () => {
    expect(refusal("0.5", "wei").message).toBe("wei has no decimals: write a whole number of wei (0, not 0.5).");
    expect(refusal("1.0", "wei").problem).toBe("decimals");
    expect(refusal("0.00000000001", "sats").message).toBe(
      "Amounts in sats have at most 10 decimals; 0.00000000001 has 11. Round it, or switch the unit to wei for finer amounts.",
    );
    expect(refusal("0.0000000000000000001", "ether").message).toMatch(/^Amounts in ETH have at most 18 decimals; .* has 19\./);
    // At the limit it is exact.
    expect(parseAmount("0.0000000001", "sats")).toBe(1n);
  });
});

describe("web config", () => {
  const good = {
    VITE_INDEXER_URL: "http://127.0.0.1:42069/",
    VITE_RPC_URL: "http://127.0.0.1:8545",
    VITE_CHAIN_ID: "31337",
    VITE_CHAMA_ADDRESS: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  };

  test("reads and normalises the four variables", () => {
    expect(readConfig(good)).toEqual({
      indexerUrl: "http://127.0.0.1:42069",
      rpcUrl: "http://127.0.0.1:8545",
      chainId: 31337,
      chamaAddress: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      txTimeoutMs: 600_000,
    });
    expect(readConfig({ ...good, VITE_TX_TIMEOUT_MS: "30000" }).txTimeoutMs).toBe(30_000);
  });

  test("names what is missing or wrong and how to fix it", () => {
    expect(() => readConfig({ ...good, VITE_CHAMA_ADDRESS: undefined })).toThrow(/Missing VITE_CHAMA_ADDRESS\. Start the app with `npm run dev`/);
    expect(() => readConfig({ ...good, VITE_CHAIN_ID: "abc" })).toThrow(/VITE_CHAIN_ID must be a chain id/);
    expect(() => readConfig({ ...good, VITE_CHAMA_ADDRESS: "0x123" })).toThrow(/not an address/);
    expect(() => readConfig({ ...good, VITE_RPC_URL: "nope" })).toThrow(/VITE_RPC_URL is not a URL/);
    expect(() => readConfig({ ...good, VITE_TX_TIMEOUT_MS: "5s" })).toThrow(/VITE_TX_TIMEOUT_MS must be a whole number/);
  });
});
