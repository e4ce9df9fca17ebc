/** VITE_EXPLORER_URL: optional, an http(s) origin, and nothing else reaches a link's href. */
import { describe, expect, test } from "vitest";
import { readConfig } from "../../web/src/config";

const good = {
  VITE_INDEXER_URL: "http://127.0.0.1:42069",
  VITE_RPC_URL: "http://127.0.0.1:8545",
  VITE_CHAIN_ID: "31337",
  VITE_CHAMA_ADDRESS: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
};

describe("VITE_EXPLORER_URL", () => {
  test("is optional: without it there is no explorer", () => {
    expect(readConfig(good).explorerUrl).toBeUndefined();
    expect(readConfig({ ...good, VITE_EXPLORER_URL: "" }).explorerUrl).toBeUndefined();
  });

  test("takes an http(s) URL and drops its trailing slashes", () => {
    expect(readConfig({ ...good, VITE_EXPLORER_URL: "https://sepolia.etherscan.io/" }).explorerUrl).toBe("https://sepolia.etherscan.io");
    expect(readConfig({ ...good, VITE_EXPLORER_URL: "http://127.0.0.1:4000//" }).explorerUrl).toBe("http://127.0.0.1:4000");
    expect(readConfig({ ...good, VITE_EXPLORER_URL: "https://blockscout.example/chain/5" }).explorerUrl).toBe("https://blockscout.example/chain/5");
  });

  test("refuses what is not an http(s) URL, naming the variable and the value", () => {
    for (const value of ["etherscan.io", "javascript:alert(1)", "ftp://explorer.example", "data:text/html,hi"]) {
      expect(() => readConfig({ ...good, VITE_EXPLORER_URL: value })).toThrow(
        `VITE_EXPLORER_URL must be an http(s) URL such as https://etherscan.io, got "${value}".`,
      );
    }
  });
});
