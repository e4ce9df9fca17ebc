/**
 * The Chama contract against a real anvil: build artifacts are fresh, then every function's
 * happy path (return values, exact events, views, native balances) and every custom error
 * with its exact args. Each revert is simulated for its error, then mined anyway, and the
 * test checks that the views and balances did not move. Every test starts from a fresh
 * deployment (evm_snapshot/evm_revert around each test).
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  type Account,
  type Address,
  type Hash,
  type Hex,
  type TransactionReceipt,
  BaseError,
  ContractFunctionRevertedError,
  encodeErrorResult,
  getAddress,
  isAddressEqual,
  parseEther,
  parseEventLogs,
  toFunctionSelector,
  zeroAddress,
} from "viem";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { PayoutReceiverAbi } from "../abis/PayoutReceiverAbi";
import { compileContracts } from "../scripts/build-contracts";
import { projectRoot } from "../scripts/lib/chama";
import { MAX_NAME_BYTES, nameBytes } from "../common/chain";
import { rpc } from "./_support/json-rpc";
import { accounts, type Chain, chamaAs, deploy, startChain } from "./_support/chain";

/** Larger than 2^53: any Number() conversion on the way would corrupt it. */
const HUGE = 2n ** 64n + 12_345n;
/** Gas for transactions mined although they revert (a fixed limit skips estimation, which would throw). */
const REVERT_GAS = 500_000n;
/** PayoutReceiver.Mode. */
const Mode = { Accept: 0, Reject: 1, Reenter: 2 } as const;

/** PayoutReceiver's ABI plus the Chama errors its calls bubble up, so viem can decode them. */
const receiverAbi = [...PayoutReceiverAbi, ...ChamaAbi.filter((item) => item.type === "error")];

/** A custom error as viem decodes it. */
type Revert = { errorName: string; args: readonly unknown[] };

/** A call that reverted: its simulated error and the receipt of the same call mined anyway. */
type Attempt = { revert: Revert; receipt: TransactionReceipt };

/** One frame of anvil's callTracer output. */
type TracedCall = { type: string; from: Address; to?: Address; input: Hex; output?: Hex; error?: string; calls?: TracedCall[] };

/** Awaits a simulation that must revert and returns its decoded custom error (name and args). */
async function revertOf(simulation: Promise<unknown>): Promise<Revert> {
  try {
    await simulation;
  } catch (error) {
    if (!(error instanceof BaseError)) throw error;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (!(reverted instanceof ContractFunctionRevertedError) || !reverted.data) throw error;
    return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  throw new Error("Expected the call to revert, but the simulation succeeded.");
}

describe("build artifacts", () => {
  test("compileContracts() output equals the committed contracts/out/*.json and abis/*Abi.ts byte for byte", () => {
    const outputs = compileContracts();
    const committed = [
      ...readdirSync(path.join(projectRoot, "contracts/out"))
        .filter((f) => f.endsWith(".json"))
        .map((f) => `contracts/out/${f}`),
      ...readdirSync(path.join(projectRoot, "abis"))
        .filter((f) => f.endsWith("Abi.ts"))
        .map((f) => `abis/${f}`),
    ];
    // No artifact is missing and none is left over from a removed contract.
    expect(outputs.map((o) => o.file).sort()).toEqual(committed.sort());
    for (const { file, contents } of outputs) {
      const onDisk = readFileSync(path.join(projectRoot, file));
      // The string comparison shows a readable diff; the byte comparison is the real check.
      expect(onDisk.toString("utf8"), `${file} is stale: run \`npm run contracts:build\``).toBe(contents);
      expect(onDisk.equals(Buffer.from(contents, "utf8")), `${file} differs byte for byte`).toBe(true);
    }
  });
});

describe("Chama on anvil", () => {
  let chain: Chain;
  let address: Address;
  let snapshot: Hex;

  beforeAll(async () => {
    chain = await startChain();
    ({ address } = await deploy(chain));
  });

  afterAll(async () => {
    await chain?.stop();
  });

  beforeEach(async () => {
    snapshot = await chain.testClient.snapshot();
  });

  afterEach(async () => {
    await chain.testClient.revert({ id: snapshot });
  });

  /** Write helpers for dev account `i`. */
  const as = (i: number) => chamaAs({ chain, address, account: accounts[i]! });
  const addressOf = (i: number): Address => accounts[i]!.address;

  const balanceOf = (target: Address) => chain.publicClient.getBalance({ address: target });

  const getChama = (chamaId: bigint) =>
    chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [chamaId] });

  const chamaCount = () => chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "chamaCount" });

  const contributedBy = (chamaId: bigint, member: Address) =>
    chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "contributedBy", args: [chamaId, member] });

  const receivedBy = (chamaId: bigint, member: Address) =>
    chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "receivedBy", args: [chamaId, member] });

  /** Timestamp of the block a receipt was mined in. */
  const blockTimestamp = async (receipt: TransactionReceipt) =>
    (await chain.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;

  /** What the sender paid for gas in a mined transaction. */
  const gasCost = (receipt: TransactionReceipt) => receipt.gasUsed * receipt.effectiveGasPrice;

  /** Every view and native balance a reverted call must leave alone. `balances` should not
   * include the sender, whose balance moves by the gas it paid (checked by `mineReverted`). */
  async function observe(params: { chamaIds: bigint[]; members: Address[]; balances: Address[] }) {
    const { chamaIds, members, balances } = params;
    return {
      chamaCount: await chamaCount(),
      contractBalance: await balanceOf(address),
      chamas: await Promise.all(chamaIds.map((id) => getChama(id))),
      contributedBy: await Promise.all(chamaIds.flatMap((id) => members.map((m) => contributedBy(id, m)))),
      receivedBy: await Promise.all(chamaIds.flatMap((id) => members.map((m) => receivedBy(id, m)))),
      balances: await Promise.all(balances.map((b) => balanceOf(b))),
    };
  }

  /** Mines a call that was simulated to revert (fixed gas, no estimate) and checks that it
   * reverted on chain and that the sender paid for gas and nothing else. */
  async function mineReverted(params: { from: Account; send: (gas: bigint) => Promise<Hash> }): Promise<TransactionReceipt> {
    const before = await balanceOf(params.from.address);
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await params.send(REVERT_GAS) });
    expect(receipt.status).toBe("reverted");
    expect(await balanceOf(params.from.address)).toBe(before - gasCost(receipt));
    return receipt;
  }

  /** Simulates `contribute` for its custom error, then mines the same call anyway. */
  async function attemptContribute(params: { from: Account; chamaId: bigint; value: bigint }): Promise<Attempt> {
    const { from, chamaId, value } = params;
    const revert = await revertOf(
      chain.publicClient.simulateContract({ account: from, address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value }),
    );
    const { walletClient } = chamaAs({ chain, address, account: from });
    const receipt = await mineReverted({
      from,
      send: (gas) => walletClient.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value, gas }),
    });
    return { revert, receipt };
  }

  /** Simulates `createChama` for its custom error, then mines the same call anyway. */
  async function attemptCreate(params: { from: Account; name: string; minimum: bigint }): Promise<Attempt> {
    const { from, name, minimum } = params;
    const revert = await revertOf(
      chain.publicClient.simulateContract({ account: from, address, abi: ChamaAbi, functionName: "createChama", args: [name, minimum] }),
    );
    const { walletClient } = chamaAs({ chain, address, account: from });
    const receipt = await mineReverted({
      from,
      send: (gas) => walletClient.writeContract({ address, abi: ChamaAbi, functionName: "createChama", args: [name, minimum], gas }),
    });
    return { revert, receipt };
  }

  /** Simulates `payout` for its custom error, then mines the same call anyway. */
  async function attemptPayout(params: { from: Account; chamaId: bigint; recipient: Address; amount: bigint }): Promise<Attempt> {
    const { from, chamaId, recipient, amount } = params;
    const args = [chamaId, recipient, amount] as const;
    const revert = await revertOf(
      chain.publicClient.simulateContract({ account: from, address, abi: ChamaAbi, functionName: "payout", args }),
    );
    const { walletClient } = chamaAs({ chain, address, account: from });
    const receipt = await mineReverted({
      from,
      send: (gas) => walletClient.writeContract({ address, abi: ChamaAbi, functionName: "payout", args, gas }),
    });
    return { revert, receipt };
  }

  /** Creates a chama and returns its id (from the simulation) and the receipt. */
  async function createChama(params: { from: number; name: string; minimum: bigint }) {
    const { result } = await chain.publicClient.simulateContract({
      account: accounts[params.from]!,
      address,
      abi: ChamaAbi,
      functionName: "createChama",
      args: [params.name, params.minimum],
    });
    const receipt = await as(params.from).createChama(params.name, params.minimum);
    return { chamaId: result, receipt };
  }

  /** The single Chama event a receipt carries (every state change emits exactly one). */
  function onlyEvent(receipt: TransactionReceipt) {
    const events = parseEventLogs({ abi: ChamaAbi, logs: receipt.logs });
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(isAddressEqual(event!.address, address)).toBe(true);
    return event!;
  }

  /** Deploys a PayoutReceiver for this Chama from account `from` and returns typed helpers. */
  async function deployReceiver(params: { from: number }) {
    const { walletClient } = as(params.from);
    const { bytecode } = JSON.parse(readFileSync(path.join(projectRoot, "contracts/out/PayoutReceiver.json"), "utf8")) as {
      bytecode: Hex;
    };
    const deployed = await chain.publicClient.waitForTransactionReceipt({
      hash: await walletClient.deployContract({ abi: PayoutReceiverAbi, bytecode, args: [address] }),
    });
    if (deployed.status !== "success" || !deployed.contractAddress) throw new Error("PayoutReceiver deployment failed");
    // Receipts carry the address in lower case; events and errors decode it checksummed.
    const receiver = getAddress(deployed.contractAddress);
    const confirm = async (hash: Hash) => {
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`tx ${hash} reverted`);
      return receipt;
    };
    return {
      address: receiver,
      /** Creates the chama the receiver administers and returns its id. */
      create: async (name: string) => {
        await confirm(await walletClient.writeContract({ address: receiver, abi: PayoutReceiverAbi, functionName: "create", args: [name] }));
        return chain.publicClient.readContract({ address: receiver, abi: PayoutReceiverAbi, functionName: "chamaId" });
      },
      setMode: async (mode: number) =>
        confirm(await walletClient.writeContract({ address: receiver, abi: PayoutReceiverAbi, functionName: "setMode", args: [mode] })),
      pay: async (recipient: Address, amount: bigint) =>
        confirm(
          await walletClient.writeContract({ address: receiver, abi: PayoutReceiverAbi, functionName: "pay", args: [recipient, amount] }),
        ),
      /** Simulates `pay` for the custom error it bubbles up from Chama, then mines it anyway. */
      attemptPay: async (recipient: Address, amount: bigint): Promise<Attempt> => {
        const from = accounts[params.from]!;
        const args = [recipient, amount] as const;
        const revert = await revertOf(
          chain.publicClient.simulateContract({ account: from, address: receiver, abi: receiverAbi, functionName: "pay", args }),
        );
        const receipt = await mineReverted({
          from,
          send: (gas) => walletClient.writeContract({ address: receiver, abi: PayoutReceiverAbi, functionName: "pay", args, gas }),
        });
        return { revert, receipt };
      },
    };
  }

  /** The calls to Chama.payout inside a mined transaction, outermost first, from anvil's callTracer. */
  async function payoutCalls(hash: Hash): Promise<TracedCall[]> {
    const trace = await rpc<TracedCall | undefined>(chain.rpcUrl, "debug_traceTransaction", [hash, { tracer: "callTracer" }]);
    if (!trace) throw new Error("debug_traceTransaction answered no trace");
    const flatten = (call: TracedCall): TracedCall[] => [call, ...(call.calls ?? []).flatMap(flatten)];
    const selector = toFunctionSelector("payout(uint256,address,uint256)");
    return flatten(trace).filter((c) => c.to !== undefined && isAddressEqual(c.to, address) && c.input.startsWith(selector));
  }

  /** Checks from the trace that the receiver's nested payout ran and was stopped by the lock
   * (the outcome alone cannot show it: a receiver that re-enters forever fails either way). */
  async function expectNestedPayoutHitTheLock(params: { hash: Hash; receiver: Address }) {
    const payouts = await payoutCalls(params.hash);
    expect(payouts).toHaveLength(2);
    expect(isAddressEqual(payouts[1]!.from, params.receiver)).toBe(true);
    expect(payouts[1]!.output).toBe(encodeErrorResult({ abi: ChamaAbi, errorName: "Reentrancy" }));
    expect(payouts[0]!.output).toBe(encodeErrorResult({ abi: ChamaAbi, errorName: "TransferFailed", args: [params.receiver] }));
  }

  describe("createChama", () => {
    test("ids start at 1 and increase; returns the id; emits ChamaCreated with exact args; getChama starts at zero totals", async () => {
      expect(await chamaCount()).toBe(0n);
      const specs = [
        { from: 0, name: "Alpha", minimum: 1_000n },
        { from: 1, name: "Beta ✓ Ñairobi", minimum: 0n },
        { from: 0, name: "J", minimum: HUGE },
      ];
      for (const [index, spec] of specs.entries()) {
        const expectedId = BigInt(index + 1);
        const { chamaId, receipt } = await createChama(spec);
        expect(chamaId).toBe(expectedId);
        const event = onlyEvent(receipt);
        expect(event.eventName).toBe("ChamaCreated");
        expect(event.args).toEqual({ chamaId: expectedId, creator: addressOf(spec.from), name: spec.name, contributionAmount: spec.minimum });
        expect(await chamaCount()).toBe(expectedId);
        expect(await getChama(expectedId)).toEqual([addressOf(spec.from), spec.name, spec.minimum, 0n, 0n]);
      }
      // Creating holds no coin.
      expect(await balanceOf(address)).toBe(0n);
    });

    test("MAX_NAME_BYTES is 64 and equals MAX_NAME_BYTES in common/chain.ts, the web form's limit", async () => {
      const onChain = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "MAX_NAME_BYTES" });
      expect(onChain).toBe(64n);
      expect(onChain).toBe(BigInt(MAX_NAME_BYTES));
    });

    test("accepts a name of exactly MAX_NAME_BYTES bytes, ASCII or multi-byte, and stores it whole", async () => {
      // 64 one-byte characters; and 64 bytes in 36 characters (Swahili, "é" and 4-byte emoji).
      const ascii = "a".repeat(MAX_NAME_BYTES);
      const multiByte = "Akiba ya Wanawake Jasiri é 🌍🌍🌍🌍🌍🌍🌍🌍🌍";
      expect(nameBytes(multiByte)).toBe(MAX_NAME_BYTES);
      expect([...multiByte]).toHaveLength(36);
      for (const [index, name] of [ascii, multiByte].entries()) {
        const { chamaId, receipt } = await createChama({ from: 0, name, minimum: 0n });
        expect(chamaId).toBe(BigInt(index + 1));
        expect(onlyEvent(receipt).args).toMatchObject({ chamaId, name });
        expect((await getChama(chamaId))[1]).toBe(name);
      }
    });

    test("createChama reverts with NameTooLong(bytes, MAX_NAME_BYTES), counting UTF-8 bytes, not characters, and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 1, name: "Alpha", minimum: 0n });
      const state = () => observe({ chamaIds: [chamaId], members: [], balances: [addressOf(1)] });
      const before = await state();
      const names = [
        // One byte over.
        "a".repeat(MAX_NAME_BYTES + 1),
        // 64 characters, 65 bytes: a character count would let it through.
        `${"a".repeat(MAX_NAME_BYTES - 1)}é`,
        // 17 characters, 68 bytes.
        "🌍".repeat(17),
        // 300 characters, like the name that once made the web app's list 3,737 px wide.
        "Harambee ".repeat(34).slice(0, 300),
      ];
      expect(names.map((name) => [...name].length)).toEqual([65, 64, 17, 300]);
      const lengths = [65n, 65n, 68n, 300n];
      for (const [index, name] of names.entries()) {
        // The web form's counter says what the contract says.
        expect(BigInt(nameBytes(name))).toBe(lengths[index]);
        expect((await attemptCreate({ from: accounts[0]!, name, minimum: 0n })).revert).toEqual({
          errorName: "NameTooLong",
          args: [lengths[index], BigInt(MAX_NAME_BYTES)],
        });
      }
      expect(await state()).toEqual(before);
      expect(await chamaCount()).toBe(1n);
    });

    test("createChama reverts with EmptyName for an empty name and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 1, name: "Alpha", minimum: 0n });
      const state = () => observe({ chamaIds: [chamaId], members: [], balances: [addressOf(1)] });
      const before = await state();
      expect((await attemptCreate({ from: accounts[0]!, name: "", minimum: 1_000n })).revert).toEqual({ errorName: "EmptyName", args: [] });
      expect(await state()).toEqual(before);
      expect(await chamaCount()).toBe(1n);
    });

    test("getChama reverts with UnknownChama(id) for id 0 and for chamaCount + 1", async () => {
      await createChama({ from: 0, name: "Only", minimum: 0n });
      for (const chamaId of [0n, 2n]) {
        expect(
          await revertOf(chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [chamaId] })),
        ).toEqual({ errorName: "UnknownChama", args: [chamaId] });
      }
    });
  });

  describe("contribute", () => {
    test("msg.value is the amount: totals, contributedBy, ContributionMade with the block timestamp, and the contract balance", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 1_000n });
      const { chamaId: otherId } = await createChama({ from: 1, name: "Beta", minimum: 0n });
      const member = addressOf(2);
      const steps = [
        { from: 2, value: 1_000n },
        { from: 3, value: HUGE },
        { from: 2, value: 1_001n },
      ];
      let total = 0n;
      for (const step of steps) {
        const contributorBefore = await balanceOf(addressOf(step.from));
        const contractBefore = await balanceOf(address);
        const receipt = await as(step.from).contribute(chamaId, step.value);
        total += step.value;

        const event = onlyEvent(receipt);
        expect(event.eventName).toBe("ContributionMade");
        expect(event.args).toEqual({
          chamaId,
          contributor: addressOf(step.from),
          amount: step.value,
          timestamp: await blockTimestamp(receipt),
        });
        expect(await balanceOf(address)).toBe(contractBefore + step.value);
        expect(await balanceOf(addressOf(step.from))).toBe(contributorBefore - step.value - gasCost(receipt));
        expect(await getChama(chamaId)).toEqual([addressOf(0), "Alpha", 1_000n, total, 0n]);
      }
      expect(await contributedBy(chamaId, member)).toBe(2_001n);
      expect(await contributedBy(chamaId, addressOf(3))).toBe(HUGE);
      // Another chama's totals are untouched.
      expect(await getChama(otherId)).toEqual([addressOf(1), "Beta", 0n, 0n, 0n]);
      expect(await contributedBy(otherId, member)).toBe(0n);
    });

    test("a minimum of 0 accepts any positive amount, down to 1 wei", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Open", minimum: 0n });
      const receipt = await as(2).contribute(chamaId, 1n);
      expect(onlyEvent(receipt).args).toMatchObject({ chamaId, contributor: addressOf(2), amount: 1n });
      expect(await getChama(chamaId)).toEqual([addressOf(0), "Open", 0n, 1n, 0n]);
      expect(await contributedBy(chamaId, addressOf(2))).toBe(1n);
      expect(await balanceOf(address)).toBe(1n);
    });

    test("exactly the minimum is accepted", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Huge", minimum: HUGE });
      await as(2).contribute(chamaId, HUGE);
      expect(await getChama(chamaId)).toEqual([addressOf(0), "Huge", HUGE, HUGE, 0n]);
    });

    test("contribute reverts with UnknownChama(id) for id 0 and chamaCount + 1 and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 5_000n);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), addressOf(3)], balances: [addressOf(0), addressOf(2)] });
      const before = await state();
      for (const unknown of [0n, (await chamaCount()) + 1n]) {
        expect((await attemptContribute({ from: accounts[3]!, chamaId: unknown, value: 1_000n })).revert).toEqual({
          errorName: "UnknownChama",
          args: [unknown],
        });
      }
      expect(await state()).toEqual(before);
      expect(await contributedBy(0n, addressOf(3))).toBe(0n);
      expect(await contributedBy(2n, addressOf(3))).toBe(0n);
    });

    test("contribute reverts with ZeroAmount on a zero value and changes nothing", async () => {
      // Minimum 0 too: zero is refused because it is zero, not because it is below a minimum.
      const { chamaId } = await createChama({ from: 0, name: "Open", minimum: 0n });
      await as(2).contribute(chamaId, 5_000n);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), addressOf(3)], balances: [addressOf(0), addressOf(2)] });
      const before = await state();
      expect((await attemptContribute({ from: accounts[3]!, chamaId, value: 0n })).revert).toEqual({ errorName: "ZeroAmount", args: [] });
      expect(await state()).toEqual(before);
    });

    test("contribute reverts with BelowMinimum(amount, minimum) and changes nothing", async () => {
      const minimum = HUGE;
      const { chamaId } = await createChama({ from: 0, name: "Huge", minimum });
      await as(2).contribute(chamaId, minimum);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), addressOf(3)], balances: [addressOf(0), addressOf(2)] });
      const before = await state();
      for (const value of [minimum - 1n, 1n]) {
        expect((await attemptContribute({ from: accounts[3]!, chamaId, value })).revert).toEqual({ errorName: "BelowMinimum", args: [value, minimum] });
      }
      expect(await state()).toEqual(before);
    });
  });

  describe("payout", () => {
    test("the admin pays out: recipient gets exactly the amount; PayoutProcessed; receivedBy and totalPaidOut update", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, HUGE);
      await as(3).contribute(chamaId, 1_000n);
      const recipient = addressOf(5);
      const contributed = HUGE + 1_000n;

      let paid = 0n;
      for (const amount of [HUGE / 3n, 1n, contributed - HUGE / 3n - 1n]) {
        const recipientBefore = await balanceOf(recipient);
        const contractBefore = await balanceOf(address);
        const adminBefore = await balanceOf(addressOf(0));
        const receipt = await as(0).payout(chamaId, recipient, amount);
        paid += amount;

        const event = onlyEvent(receipt);
        expect(event.eventName).toBe("PayoutProcessed");
        expect(event.args).toEqual({ chamaId, recipient, amount, timestamp: await blockTimestamp(receipt) });
        expect(await balanceOf(recipient)).toBe(recipientBefore + amount);
        expect(await balanceOf(address)).toBe(contractBefore - amount);
        expect(await balanceOf(addressOf(0))).toBe(adminBefore - gasCost(receipt));
        expect(await receivedBy(chamaId, recipient)).toBe(paid);
        expect(await getChama(chamaId)).toEqual([addressOf(0), "Alpha", 0n, contributed, paid]);
      }
      // The last payout took exactly what was left.
      expect(paid).toBe(contributed);
      expect(await balanceOf(address)).toBe(0n);
      // Contribution totals are not touched by payouts.
      expect(await contributedBy(chamaId, addressOf(2))).toBe(HUGE);
      expect(await receivedBy(chamaId, addressOf(2))).toBe(0n);
    });

    test("payout reverts with NotAdmin(caller, admin) for anyone but the creator and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), addressOf(5)], balances: [addressOf(0), addressOf(5)] });
      const before = await state();
      // A contributor, and a stranger paying themselves.
      for (const [caller, recipient] of [[2, 5], [4, 4]] as const) {
        expect((await attemptPayout({ from: accounts[caller]!, chamaId, recipient: addressOf(recipient), amount: 1_000n })).revert).toEqual({
          errorName: "NotAdmin",
          args: [addressOf(caller), addressOf(0)],
        });
      }
      expect(await state()).toEqual(before);
      expect(await receivedBy(chamaId, addressOf(4))).toBe(0n);
    });

    test("payout reverts with ZeroRecipient for the zero address and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      // Not the zero address's balance: anvil's coinbase is the zero address, so it earns every tip.
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), zeroAddress], balances: [addressOf(2), addressOf(5)] });
      const before = await state();
      expect((await attemptPayout({ from: accounts[0]!, chamaId, recipient: zeroAddress, amount: 1_000n })).revert).toEqual({
        errorName: "ZeroRecipient",
        args: [],
      });
      expect(await state()).toEqual(before);
    });

    test("payout reverts with ZeroAmount on a zero amount and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(2), addressOf(5)], balances: [addressOf(2), addressOf(5)] });
      const before = await state();
      expect((await attemptPayout({ from: accounts[0]!, chamaId, recipient: addressOf(5), amount: 0n })).revert).toEqual({
        errorName: "ZeroAmount",
        args: [],
      });
      expect(await state()).toEqual(before);
    });

    test("payout reverts with InsufficientBalance(requested, available), counting earlier payouts and only this chama's pot, and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Small", minimum: 0n });
      const { chamaId: richId } = await createChama({ from: 1, name: "Rich", minimum: 0n });
      await as(2).contribute(chamaId, parseEther("3"));
      await as(3).contribute(richId, parseEther("100"));
      await as(0).payout(chamaId, addressOf(5), parseEther("1"));
      const available = parseEther("2");

      const state = () =>
        observe({ chamaIds: [chamaId, richId], members: [addressOf(2), addressOf(5)], balances: [addressOf(1), addressOf(2), addressOf(5)] });
      const before = await state();
      // The contract holds 102 ETH, but this chama only 2 of it.
      expect(before.contractBalance).toBe(parseEther("102"));
      for (const requested of [available + 1n, parseEther("3"), parseEther("50")]) {
        expect((await attemptPayout({ from: accounts[0]!, chamaId, recipient: addressOf(5), amount: requested })).revert).toEqual({
          errorName: "InsufficientBalance",
          args: [requested, available],
        });
      }
      expect(await state()).toEqual(before);

      // Emptied: even 1 wei is too much.
      await as(0).payout(chamaId, addressOf(5), available);
      const emptied = await state();
      expect((await attemptPayout({ from: accounts[0]!, chamaId, recipient: addressOf(5), amount: 1n })).revert).toEqual({
        errorName: "InsufficientBalance",
        args: [1n, 0n],
      });
      expect(await state()).toEqual(emptied);
    });

    test("payout reverts with UnknownChama(id) for id 0 and chamaCount + 1 and changes nothing", async () => {
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      const state = () => observe({ chamaIds: [chamaId], members: [addressOf(5)], balances: [addressOf(2), addressOf(5)] });
      const before = await state();
      for (const unknown of [0n, (await chamaCount()) + 1n]) {
        expect((await attemptPayout({ from: accounts[0]!, chamaId: unknown, recipient: addressOf(5), amount: 1_000n })).revert).toEqual({
          errorName: "UnknownChama",
          args: [unknown],
        });
        expect(await receivedBy(unknown, addressOf(5))).toBe(0n);
      }
      expect(await state()).toEqual(before);
    });

    test("payout to a PayoutReceiver in Accept mode delivers the coin (the control for the two tests below)", async () => {
      const receiver = await deployReceiver({ from: 1 });
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      await as(0).payout(chamaId, receiver.address, 4_000n);
      expect(await balanceOf(receiver.address)).toBe(4_000n);
      expect(await receivedBy(chamaId, receiver.address)).toBe(4_000n);

      // A receiver that administers its own chama can pay itself.
      const ownId = await receiver.create("Own");
      await as(3).contribute(ownId, 1_000n);
      const event = onlyEvent(await receiver.pay(receiver.address, 600n));
      expect(event.args).toMatchObject({ chamaId: ownId, recipient: receiver.address, amount: 600n });
      expect(await balanceOf(receiver.address)).toBe(4_600n);
      expect(await getChama(ownId)).toEqual([receiver.address, "Own", 0n, 1_000n, 600n]);
    });

    test("payout reverts with TransferFailed(recipient) when the recipient rejects the coin and changes nothing", async () => {
      const receiver = await deployReceiver({ from: 1 });
      await receiver.setMode(Mode.Reject);
      const { chamaId } = await createChama({ from: 0, name: "Alpha", minimum: 0n });
      await as(2).contribute(chamaId, 10_000n);
      const state = () =>
        observe({ chamaIds: [chamaId], members: [addressOf(2), receiver.address], balances: [addressOf(2), receiver.address] });
      const before = await state();
      expect((await attemptPayout({ from: accounts[0]!, chamaId, recipient: receiver.address, amount: 4_000n })).revert).toEqual({
        errorName: "TransferFailed",
        args: [receiver.address],
      });
      expect(await state()).toEqual(before);
      expect(before.balances[1]).toBe(0n);
    });

    test("a re-entering receiver cannot pay itself twice: the payout reverts and balances and totals are unchanged", async () => {
      const receiver = await deployReceiver({ from: 1 });
      const ownId = await receiver.create("Own");
      const { chamaId: otherId } = await createChama({ from: 0, name: "Other", minimum: 0n });
      await as(2).contribute(ownId, parseEther("3"));
      await as(3).contribute(otherId, parseEther("10"));
      await receiver.setMode(Mode.Reenter);

      const state = () =>
        observe({ chamaIds: [ownId, otherId], members: [addressOf(2), receiver.address], balances: [addressOf(2), receiver.address] });
      const before = await state();
      const { revert, receipt } = await receiver.attemptPay(receiver.address, parseEther("1"));
      // The nested payout fails, so the receiver's receive() reverts and the outer transfer fails.
      expect(revert).toEqual({ errorName: "TransferFailed", args: [receiver.address] });
      expect(await state()).toEqual(before);
      expect(before.balances[1]).toBe(0n);

      // The trace shows why: the nested payout from inside receive() hit the lock.
      await expectNestedPayoutHitTheLock({ hash: receipt.transactionHash, receiver: receiver.address });
    });

    test("a receiver paid by another chama's admin cannot re-enter payout on its own chama (the lock is global)", async () => {
      const receiver = await deployReceiver({ from: 1 });
      const ownId = await receiver.create("Own");
      const { chamaId } = await createChama({ from: 0, name: "Payer", minimum: 0n });
      await as(2).contribute(ownId, parseEther("1"));
      await as(3).contribute(chamaId, parseEther("5"));
      await receiver.setMode(Mode.Reenter);

      const state = () =>
        observe({
          chamaIds: [ownId, chamaId],
          members: [addressOf(2), addressOf(3), receiver.address],
          balances: [addressOf(2), addressOf(3), receiver.address],
        });
      const before = await state();
      // The receiver administers ownId, which holds 1 ETH, so only the lock stops its nested payout.
      const { revert, receipt } = await attemptPayout({ from: accounts[0]!, chamaId, recipient: receiver.address, amount: parseEther("1") });
      expect(revert).toEqual({ errorName: "TransferFailed", args: [receiver.address] });
      expect(await state()).toEqual(before);
      await expectNestedPayoutHitTheLock({ hash: receipt.transactionHash, receiver: receiver.address });
    });
  });
});
