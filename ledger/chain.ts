/**
 * What the ledger needs from the chain, over viem: receipts, transactions, nonces, broadcasting a
 * raw transaction, and a revert's custom error decoded. Tests may pass any other implementation.
 */
import { type Address, BaseError, type Hash, type Hex, HttpRequestError, TimeoutError, createPublicClient, decodeErrorResult, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { JengaError, errorMessage } from "../common/errors";

/** The node answered and refused the transaction; `message` is the node's reason. */
export class NodeRefusedError extends JengaError {
  override name = "NodeRefusedError";
  override readonly expected = true;
}

/** The RPC could not be reached: nothing is decided, the next pass tries again. */
export class RpcUnreachableError extends JengaError {
  override name = "RpcUnreachableError";
}

export type LedgerReceipt = { status: "success" | "reverted"; blockNumber: bigint; blockHash: Hash };

export type ChainTransaction = {
  hash: Hash;
  from: Address;
  to: Address | null;
  nonce: number;
  input: Hex;
  value: bigint;
  chainId: number | undefined;
  blockNumber: bigint | null;
};

export type LedgerChain = {
  chainId: number;
  getBlockNumber: () => Promise<bigint>;
  getReceipt: (hash: Hash) => Promise<LedgerReceipt | null>;
  getTransaction: (hash: Hash) => Promise<ChainTransaction | null>;
  /** Transactions of `address` mined so far (the next nonce the chain expects). */
  getMinedNonce: (address: Address) => Promise<number>;
  /** Broadcasts; throws NodeRefusedError when the node says no, RpcUnreachableError when it
   * cannot be asked. "Already known" counts as accepted. */
  sendRaw: (raw: Hex) => Promise<void>;
  /** The custom error a mined, reverted transaction raised, e.g. `BelowMinimum(1, 2)`. */
  revertReason: (tx: ChainTransaction) => Promise<string | undefined>;
};

function unreachable(error: unknown): boolean {
  return error instanceof BaseError && error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null;
}

/** The node's own words from a viem error (`details`), else its short message. */
export function nodeMessage(error: unknown): string {
  if (error instanceof BaseError) {
    const withDetails = error.walk((e) => e instanceof BaseError && typeof e.details === "string" && e.details !== "") as BaseError | null;
    return withDetails?.details ?? error.shortMessage;
  }
  return errorMessage(error);
}

/** The custom error in revert data, as `Name(arg, ...)`. */
export function decodeChamaError(data: Hex): string | undefined {
  try {
    const decoded = decodeErrorResult({ abi: ChamaAbi, data });
    return `${decoded.errorName}(${(decoded.args ?? []).map((a) => String(a)).join(", ")})`;
  } catch {
    return undefined;
  }
}

/** The ledger's chain over viem's HTTP transport (batched). */
export function viemLedgerChain(params: { rpcUrl: string; chainId: number; timeoutMs?: number }): LedgerChain {
  const client = createPublicClient({ transport: http(params.rpcUrl, { batch: true, timeout: params.timeoutMs ?? 5_000, retryCount: 1 }) });
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (unreachable(error)) throw new RpcUnreachableError(`The RPC did not answer: ${nodeMessage(error)}`, { cause: error });
      throw error;
    }
  };
  return {
    chainId: params.chainId,
    getBlockNumber: () => guard(() => client.getBlockNumber({ cacheTime: 0 })),
    getReceipt: (hash) =>
      guard(async () => {
        const receipt = await client.request({ method: "eth_getTransactionReceipt", params: [hash] });
        if (!receipt) return null;
        return { status: receipt.status === "0x1" ? "success" : "reverted", blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash };
      }),
    getTransaction: (hash) =>
      guard(async () => {
        const tx = await client.request({ method: "eth_getTransactionByHash", params: [hash] });
        if (!tx) return null;
        return {
          hash: tx.hash,
          from: tx.from,
          to: tx.to,
          nonce: Number(BigInt(tx.nonce)),
          input: tx.input,
          value: BigInt(tx.value),
          chainId: tx.chainId === undefined ? undefined : Number(BigInt(tx.chainId)),
          blockNumber: tx.blockNumber === null ? null : BigInt(tx.blockNumber),
        };
      }),
    getMinedNonce: (address) => guard(() => client.getTransactionCount({ address, blockTag: "latest" })),
    sendRaw: async (raw) => {
      try {
        await client.request({ method: "eth_sendRawTransaction", params: [raw] });
      } catch (error) {
        if (unreachable(error)) throw new RpcUnreachableError(`The RPC did not answer: ${nodeMessage(error)}`, { cause: error });
        const message = nodeMessage(error);
        if (/already known|already imported|known transaction/i.test(message)) return;
        throw new NodeRefusedError(`The node refused the transaction: ${message}`, { cause: error });
      }
    },
    revertReason: async (tx) => {
      if (tx.blockNumber === null || !tx.to) return undefined;
      try {
        await client.call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, blockNumber: tx.blockNumber > 0n ? tx.blockNumber - 1n : 0n });
        return undefined;
      } catch (error) {
        const withData = error instanceof BaseError ? (error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null) : null;
        return withData?.data ? decodeChamaError(withData.data) : undefined;
      }
    },
  };
}
