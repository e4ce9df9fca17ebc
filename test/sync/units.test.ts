/** Units: bigint in, bigint out; sats are 10^10 wei; nothing goes through a float. */
import { describe, expect, test } from "vitest";
import { readConfig } from "../../web/src/config";
import { SAT } from "../../common/chain";
import { formatAmount, parseAmount } from "../../web/src/units";

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
      const text = formatAmount(huge, unit).replace(/ .*$/, "");
      expect(parseAmount(text, unit)).toBe(huge);
    }
  });

  test("rejects what is not an amount, and precision finer than a wei", () => {
    expect(() => parseAmount("", "sats")).toThrow(/not an amount/);
    expect(() => parseAmount("-5", "sats")).toThrow(/not an amount/);
    expect(() => parseAmount("1e3", "ether")).toThrow(/not an amount/);
    expect(() => parseAmount("0.5", "wei")).toThrow(/at most 0 decimals/);
    expect(() => parseAmount("0.00000000001", "sats")).toThrow(/at most 10 decimals/);
    expect(parseAmount("1,000.5", "sats")).toBe(10_005_000_000_000n);
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
