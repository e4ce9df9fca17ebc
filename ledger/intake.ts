/**
 * Intake: what `POST /transactions` does with `{ raw }` (a signed transaction the server relays)
 * and `{ hash }` (a transaction a wallet broadcast itself). Every refusal is an IntakeRefusal
 * with a 4xx status and a sentence that says why; nothing is recorded for a refusal before the
 * broadcast. A raw transaction is recorded first (a draft holding it) and broadcast second, so a
 * crash in between loses nothing: the follower broadcasts drafts on start.
 */
import {
  type Address,
  type Hash,
  type Hex,
  decodeFunctionData,
  encodeFunctionData,
  getAddress,
  isAddressEqual,
  isHex,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  zeroAddress,
} from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { MAX_NAME_BYTES, nameBytes } from "../common/chain";
import { JengaError, errorMessage } from "../common/errors";
import type { LedgerKind } from "../common/ledger-api";
import { type LedgerChain, NodeRefusedError, RpcUnreachableError } from "./chain";
import { type Follower, applyStep } from "./follower";
import type { LedgerRecord, LedgerStore } from "./store";

/** A request intake refuses; `status` is the HTTP status to answer with. */
export class IntakeRefusal extends JengaError {
  override name = "IntakeRefusal";
  override readonly expected = true;
  readonly status: 400 | 404 | 413 | 415 | 422 | 429 | 503;
  readonly code: string;
  constructor(params: { status: IntakeRefusal["status"]; code: string; message: string; cause?: unknown }) {
    super(params.message, { cause: params.cause });
    this.status = params.status;
    this.code = params.code;
  }
}

/** The Chama call a transaction carries, checked. */
export type ChamaCall = { kind: LedgerKind; chamaId: bigint | null; amount: bigint; recipient: Address | null; name: string | null };

const refuse = (code: string, message: string, status: IntakeRefusal["status"] = 422) => new IntakeRefusal({ status, code, message });

/** Decodes calldata as createChama, contribute or payout with well-formed arguments (what the
 * contract would refuse on its face is refused here). Throws IntakeRefusal. */
export function decodeChamaCall(params: { data: Hex; value: bigint }): ChamaCall {
  let decoded: ReturnType<typeof decodeFunctionData<typeof ChamaAbi>>;
  try {
    decoded = decodeFunctionData({ abi: ChamaAbi, data: params.data });
  } catch {
    throw refuse("NOT_A_CHAMA_CALL", "The transaction's data is not a call of createChama, contribute or payout.");
  }
  // Extra bytes after the arguments decode too: the call must be exactly what it says.
  if (encodeFunctionData({ abi: ChamaAbi, ...decoded } as Parameters<typeof encodeFunctionData<typeof ChamaAbi>>[0]).toLowerCase() !== params.data.toLowerCase()) {
    throw refuse("MALFORMED_CALL", `The ${decoded.functionName} call carries bytes beyond its arguments.`);
  }
  switch (decoded.functionName) {
    case "createChama": {
      const [name, contributionAmount] = decoded.args;
      const bytes = nameBytes(name);
      if (bytes === 0) throw refuse("BAD_ARGUMENTS", "createChama: the name is empty (the contract reverts with EmptyName).");
      if (bytes > MAX_NAME_BYTES) throw refuse("BAD_ARGUMENTS", `createChama: the name is ${bytes} bytes, more than the contract's ${MAX_NAME_BYTES} (NameTooLong).`);
      if (params.value !== 0n) throw refuse("BAD_ARGUMENTS", "createChama is not payable: the transaction's value must be 0.");
      return { kind: "createChama", chamaId: null, amount: contributionAmount, recipient: null, name };
    }
    case "contribute": {
      const [chamaId] = decoded.args;
      if (chamaId === 0n) throw refuse("BAD_ARGUMENTS", "contribute: chama ids start at 1.");
      if (params.value === 0n) throw refuse("BAD_ARGUMENTS", "contribute: the value is 0 (the contract reverts with ZeroAmount).");
      return { kind: "contribution", chamaId, amount: params.value, recipient: null, name: null };
    }
    case "payout": {
      const [chamaId, recipient, amount] = decoded.args;
      if (chamaId === 0n) throw refuse("BAD_ARGUMENTS", "payout: chama ids start at 1.");
      if (isAddressEqual(recipient, zeroAddress)) throw refuse("BAD_ARGUMENTS", "payout: the recipient is the zero address (ZeroRecipient).");
      if (amount === 0n) throw refuse("BAD_ARGUMENTS", "payout: the amount is 0 (ZeroAmount).");
      if (params.value !== 0n) throw refuse("BAD_ARGUMENTS", "payout is not payable: the transaction's value must be 0.");
      return { kind: "payout", chamaId, amount, recipient: getAddress(recipient), name: null };
    }
    default:
      throw refuse("NOT_A_CHAMA_CALL", `${decoded.functionName} is a view: only createChama, contribute and payout are recorded.`);
  }
}

/** Fixed one-minute windows per key; at most `max` hits a window. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly params: { max: number; what: string; setting: string; now?: () => number }) {}

  /** Counts a hit for `key`; throws a 429 IntakeRefusal past the limit. */
  hit(key: string): void {
    const now = (this.params.now ?? Date.now)();
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (now - w.start >= 60_000) this.windows.delete(k);
    let window = this.windows.get(key);
    if (!window || now - window.start >= 60_000) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count > this.params.max) {
      const wait = Math.ceil((window.start + 60_000 - now) / 1000);
      throw new IntakeRefusal({ status: 429, code: "RATE_LIMITED", message: `Too many transactions from this ${this.params.what}: at most ${this.params.max} a minute (${this.params.setting}). Retry in ${wait} s.` });
    }
  }
}

export type IntakeParameters = {
  store: LedgerStore;
  chain: LedgerChain;
  follower: Follower;
  chamaAddress: Address;
  perSender: RateLimiter;
  now?: () => number;
};

export type IntakeResult = { record: LedgerRecord; created: boolean };

/** Largest raw transaction accepted, in hex characters (a Chama call is a few hundred). */
const MAX_RAW_CHARS = 16_384;

/** `{ raw }`: checks, records a draft, broadcasts, and answers with the record (pending, or
 * still a draft if the RPC could not be reached: the follower sends it). A node refusal marks the
 * draft failed ("rejected") and is thrown as a 422 with the node's reason. */
export async function intakeRaw(params: IntakeParameters & { raw: unknown }): Promise<IntakeResult> {
  const { raw, store, chain, follower } = params;
  if (typeof raw !== "string" || !isHex(raw, { strict: true }) || raw.length < 4) throw refuse("BAD_RAW", '"raw" must be a signed transaction as 0x-prefixed hex.', 400);
  if (raw.length > MAX_RAW_CHARS) throw refuse("BAD_RAW", `"raw" is longer than ${MAX_RAW_CHARS} hex characters: no Chama call is that large.`, 400);
  let tx: ReturnType<typeof parseTransaction>;
  try {
    tx = parseTransaction(raw);
  } catch (cause) {
    throw new IntakeRefusal({ status: 400, code: "BAD_RAW", message: `"raw" is not a serialized transaction: ${errorMessage(cause).split("\n")[0]}`, cause });
  }
  if (tx.type !== "legacy" && tx.type !== "eip2930" && tx.type !== "eip1559") throw refuse("UNSUPPORTED_TYPE", `Transactions of type ${tx.type} are not relayed: send a legacy, EIP-2930 or EIP-1559 one.`, 400);
  if (tx.r === undefined || tx.s === undefined) throw refuse("UNSIGNED", "The transaction is not signed.", 400);
  let from: Address;
  try {
    from = await recoverTransactionAddress({ serializedTransaction: raw as Parameters<typeof recoverTransactionAddress>[0]["serializedTransaction"] });
  } catch (cause) {
    throw new IntakeRefusal({ status: 400, code: "BAD_SIGNATURE", message: `The transaction's signature is not valid: ${errorMessage(cause).split("\n")[0]}`, cause });
  }
  if (tx.chainId === undefined) throw refuse("NO_CHAIN_ID", `The transaction has no chain id (it could be replayed on any chain): sign it for chain ${chain.chainId}.`);
  if (tx.chainId !== chain.chainId) throw refuse("WRONG_CHAIN", `The transaction is signed for chain ${tx.chainId}, but this ledger follows chain ${chain.chainId}.`);
  params.perSender.hit(from.toLowerCase());
  if (!tx.to || !isAddressEqual(tx.to, params.chamaAddress)) {
    throw refuse("WRONG_CONTRACT", `The transaction is sent to ${tx.to ?? "no address (a deployment)"}, not to the Chama contract ${params.chamaAddress}.`);
  }
  if (tx.nonce === undefined) throw refuse("BAD_RAW", "The transaction has no nonce.", 400);
  const call = decodeChamaCall({ data: tx.data ?? "0x", value: tx.value ?? 0n });
  const hash = keccak256(raw);

  const known = await store.get(hash);
  if (known) return { record: known, created: false };
  follower.busy.add(hash);
  try {
    const { record, created } = await store.insert({
      record: { hash, chainId: chain.chainId, from, nonce: tx.nonce, to: params.chamaAddress, ...call, raw, status: "draft", origin: "relay" },
      cause: "relayed: recorded before broadcast",
    });
    if (!created || record.status !== "draft") return { record, created };
    try {
      await chain.sendRaw(raw);
    } catch (error) {
      if (error instanceof RpcUnreachableError) return { record, created };
      if (!(error instanceof NodeRefusedError)) throw error;
      await applyStep({ store, record, to: "failed", cause: error.message, patch: { error: { reason: "rejected", message: error.message } } });
      throw new IntakeRefusal({ status: 422, code: "NODE_REFUSED", message: error.message, cause: error });
    }
    const pending = await applyStep({ store, record, to: "pending", cause: "broadcast by the relay", patch: { sentAt: new Date((params.now ?? Date.now)()) } });
    return { record: pending ?? (await store.get(hash)) ?? record, created };
  } finally {
    follower.busy.delete(hash);
  }
}

/** `{ hash }`: records a transaction a wallet sent, only if the node knows it and it is a
 * well-formed Chama call on this chain. */
export async function intakeHash(params: IntakeParameters & { hash: unknown }): Promise<IntakeResult> {
  const { store, chain } = params;
  if (typeof params.hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(params.hash)) throw refuse("BAD_HASH", '"hash" must be a transaction hash: 0x and 64 hex digits.', 400);
  const hash = params.hash.toLowerCase() as Hash;
  const known = await store.get(hash);
  if (known) return { record: known, created: false };
  const tx = await chain.getTransaction(hash);
  if (!tx) throw refuse("UNKNOWN_TRANSACTION", `Transaction ${hash} is not known to the node (neither mined nor in its pool): broadcast it first.`, 404);
  if (tx.chainId !== undefined && tx.chainId !== chain.chainId) throw refuse("WRONG_CHAIN", `Transaction ${hash} is on chain ${tx.chainId}, but this ledger follows chain ${chain.chainId}.`);
  params.perSender.hit(tx.from.toLowerCase());
  if (!tx.to || !isAddressEqual(tx.to, params.chamaAddress)) {
    throw refuse("WRONG_CONTRACT", `Transaction ${hash} is sent to ${tx.to ?? "no address (a deployment)"}, not to the Chama contract ${params.chamaAddress}.`);
  }
  const call = decodeChamaCall({ data: tx.input, value: tx.value });
  return store.insert({
    record: { hash, chainId: chain.chainId, from: getAddress(tx.from), nonce: tx.nonce, to: params.chamaAddress, ...call, raw: null, status: "pending", origin: "wallet", sentAt: new Date((params.now ?? Date.now)()) },
    cause: "registered by hash (sent by the wallet)",
  });
}
