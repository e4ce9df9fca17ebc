/** The checks before signing: recipient addresses in any one case, a wrong checksum refused,
 * and what the chama or the account would refuse, as sentences in the chosen unit. */
import { getAddress, zeroAddress } from "viem";
import { describe, expect, test } from "vitest";
import { AddressError, type ChamaFacts, checkAction, parseRecipient } from "../../web/src/checks";
import { SAT } from "../../common/chain";

const CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ADMIN = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const chama: ChamaFacts = { id: 1n, name: "Savers", minimum: 10_000n * SAT, balance: 5_000n * SAT, admin: ADMIN };

/** Parses and returns the AddressError it throws. */
function refusal(text: string): AddressError {
  try {
    parseRecipient(text);
  } catch (error) {
    if (error instanceof AddressError) return error;
    throw error;
  }
  throw new Error(`parseRecipient(${JSON.stringify(text)}) did not throw`);
}

describe("parseRecipient", () => {
  test("all-lowercase, all-uppercase and checksummed addresses, normalised to the checksum", () => {
    const hex = CHECKSUMMED.slice(2);
    for (const typed of [CHECKSUMMED, `0x${hex.toLowerCase()}`, `0x${hex.toUpperCase()}`, `0X${hex.toUpperCase()}`, `  ${CHECKSUMMED}\n`]) {
      expect(parseRecipient(typed)).toBe(CHECKSUMMED);
    }
  });

  test("a mixed-case address with a wrong checksum is refused, saying so", () => {
    const wrong = CHECKSUMMED.replace("C51812dc", "c51812dc");
    expect(getAddress(wrong.toLowerCase())).toBe(CHECKSUMMED);
    expect(refusal(wrong).message).toMatch(/mixes upper and lower case, but its checksum is wrong/);
  });

  test("what is not an address, and the zero address", () => {
    expect(refusal("").message).toBe("Type the recipient's address: 0x followed by 40 hex digits.");
    expect(refusal("0x1234").message).toBe("Not an address: an address is 0x followed by 40 hex digits; this has 4.");
    expect(refusal(CHECKSUMMED.slice(2)).message).toMatch(/this has 40 and no 0x/);
    expect(refusal(`${CHECKSUMMED.slice(0, 41)}g`).message).toMatch(/0-9 and a-f/);
    expect(refusal(zeroAddress).message).toBe("The recipient is the zero address: enter the member's address.");
  });
});

describe("checkAction", () => {
  test("a contribution below the chama's minimum, in the chosen unit", () => {
    const params = { kind: "contribution", chamaId: 1n, amount: 1_000n * SAT } as const;
    expect(checkAction({ params, unit: "sats", chama })).toEqual(["This chama's minimum is 10,000 sats; 1,000 sats would be refused."]);
    expect(checkAction({ params, unit: "ether", chama })).toEqual(["This chama's minimum is 0.0001 ETH; 0.00001 ETH would be refused."]);
    expect(checkAction({ params: { ...params, amount: 10_000n * SAT }, unit: "sats", chama })).toEqual([]);
    expect(checkAction({ params: { ...params, amount: 0n }, unit: "sats", chama })).toEqual(["A contribution must be more than zero."]);
  });

  test("the account's balance must cover the amount and the fee", () => {
    const params = { kind: "contribution", chamaId: 1n, amount: 10_000n * SAT } as const;
    expect(checkAction({ params, unit: "sats", chama, balance: 10_000n * SAT, fee: 3n * SAT })).toEqual([
      "This account holds 10,000 sats; 10,000 sats plus a fee of about 3 sats is more than that.",
    ]);
    expect(checkAction({ params, unit: "sats", chama, balance: 10_003n * SAT, fee: 3n * SAT })).toEqual([]);
    expect(checkAction({ params, unit: "sats", chama, balance: 9_999n * SAT })).toEqual([
      "This account holds 9,999 sats; 10,000 sats is more than that.",
    ]);
  });

  test("a payout by a non-admin, and above the chama's balance", () => {
    const params = { kind: "payout", chamaId: 1n, recipient: CHECKSUMMED, amount: 6_000n * SAT } as const;
    expect(checkAction({ params, unit: "sats", chama, account: CHECKSUMMED })).toEqual([
      "Only the chama's admin (0xf39f…2266) can pay out; this account is 0x7099…79C8.",
      "The chama holds 5,000 sats; a payout of 6,000 sats is more than that.",
    ]);
    expect(checkAction({ params: { ...params, amount: 5_000n * SAT }, unit: "sats", chama, account: getAddress(ADMIN) })).toEqual([]);
    // A payout costs the admin only the fee: the amount comes from the pot.
    expect(checkAction({ params: { ...params, amount: 5_000n * SAT }, unit: "sats", chama, account: getAddress(ADMIN), balance: 1n * SAT, fee: 2n * SAT })).toEqual([
      "This account holds 1 sats; the fee of about 2 sats is more than that.",
    ]);
  });
});
