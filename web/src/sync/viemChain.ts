/**
 * The engine's chain port on viem: sends with an explicit nonce, follows receipts with
 * `waitForTransactionReceipt` (and its `onReplaced`), looks transactions up by nonce, turns
 * transport failures into UnreachableError so actions wait as drafts, and a signature declined
 * in the wallet (EIP-1193 code 4001) into UserRejectedError.
 *
 * With a `relay` (the API's ledger), a wallet that signs in the page (the dev wallet) signs the
 * transaction here, with the same nonce, gas and fees, and hands the signed bytes to the relay,
 * which records and broadcasts them; the bytes are kept until an answer comes, so a send that
 * could not reach the API is repeated with the same bytes (the relay is idempotent by hash, so
 * nothing is sent twice). Without a ledger there (404, or 503 LEDGER_UNAVAILABLE) the same bytes
 * go straight to the node, and the relay says so. A wallet that broadcasts itself (an injected
 * one) registers the hash with the relay afterwards, in the background.
 */
import {
  type Address,
  type Hash,
  BaseError,
  type Chain,
  HttpRequestError,
  type Log,
  type PublicClient,
  TimeoutError,
  type Transport,
  TransactionNotFoundError,
  UserRejectedRequestError,
  type WalletClient,
  type Account,
  type Hex,
  decodeErrorResult,
  encodeFunctionData,
  isAddressEqual,
  parseEventLogs,
} from "viem";
import { ChamaAbi } from "../../../abis/ChamaAbi";
import { type ChainPort, NonceUsedError, UnreachableError, UserRejectedError } from "./ports";
import { LedgerAnswerError, LedgerRefusedError, LedgerUnreachableError, NoLedgerError } from "../ledger";
import type { Action, ActionParams, Receipt } from "./types";
import { errorMessage } from "../../../common/errors";

/** The contract call an action makes: calldata and value. */
export function callFor(params: ActionParams): { data: Hex; value: bigint } {
  switch (params.kind) {
    case "createChama":
      return {
        data: encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: [params.name, params.contributionAmount] }),
        value: 0n,
      };
    case "contribution":
      return { data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [params.chamaId] }), value: params.amount };
    case "payout":
      return {
        data: encodeFunctionData({ abi: ChamaAbi, functionName: "payout", args: [params.chamaId, params.recipient, params.amount] }),
        value: 0n,
      };
  }
}

const EVENT_FOR = {
  createChama: "ChamaCreated",
  contribution: "ContributionMade",
  payout: "PayoutProcessed",
} as const;

/** True for failures to reach the node (as opposed to the node saying no). */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof BaseError) {
    return error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null &&
      error.walk((e) => e instanceof HttpRequestError && e.status !== undefined && e.status < 500) === null;
  }
  return error instanceof TypeError && /fetch/i.test(error.message);
}

/** EIP-1193's code for "the user rejected the request". */
export const USER_REJECTED_CODE = 4001;

/** True for a request the person declined in their wallet: EIP-1193 code 4001, raw from the
 * provider or wrapped by viem (UserRejectedRequestError). */
export function isUserRejection(error: unknown): boolean {
  if (error instanceof BaseError) return error.walk((e) => e instanceof UserRejectedRequestError) !== null;
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === USER_REJECTED_CODE;
}

/** What the row says when the person declines the signature. */
export const USER_REJECTED_MESSAGE = "You rejected it in your wallet, so nothing was sent. Submit it again if you meant to.";

const NONCE_TAKEN = /nonce too low|already known|replacement transaction underpriced|nonce has already been used/i;

function nonceTaken(error: unknown): boolean {
  const text = error instanceof BaseError ? `${error.shortMessage} ${error.details}` : String(error);
  return NONCE_TAKEN.test(text);
}

/** "ErrorName(arg, arg)" for a contract revert, else viem's short message. */
export function revertReason(error: unknown): string {
  if (error instanceof BaseError) {
    const withData = error.walk((e) => typeof (e as { data?: unknown }).data === "string") as { data?: Hex } | null;
    if (withData?.data && withData.data.length >= 10) {
      try {
        const decoded = decodeErrorResult({ abi: ChamaAbi, data: withData.data });
        return `${decoded.errorName}(${(decoded.args ?? []).map((a) => String(a)).join(", ")})`;
      } catch {
        // Not one of the contract's errors: fall back to the message.
      }
    }
    return error.shortMessage;
  }
  return errorMessage(error);
}

export type ViemChainParameters = {
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The Chama contract. */
  address: Address;
  /** Simulate before sending so a call that would revert fails with its reason and costs
   * nothing. Default true; false sends it anyway (and it reverts on chain). */
  simulate?: boolean;
  /** Receipt polling while something is pending. */
  pollingInterval?: number;
  /** The most blocks a lookup by nonce scans. */
  maxScanBlocks?: bigint;
  /** The API's ledger (web/src/ledger.ts's LedgerClient): signed bytes are relayed through it,
   * and hashes a wallet broadcast itself are registered with it. */
  relay?: RelayPort;
};

/** What the chain port needs of the ledger's relay. `relay` throws LedgerUnreachableError,
 * NoLedgerError or LedgerRefusedError (web/src/ledger.ts). */
export type RelayPort = {
  relay: (raw: Hex) => Promise<Hash>;
  register: (hash: Hash) => void;
};

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isUnreachable(error)) throw new UnreachableError(revertReason(error), { cause: error });
    throw error;
  }
}

export function viemChain(params: ViemChainParameters): ChainPort {
  const { publicClient, walletClient, address, simulate = true, pollingInterval = 250, maxScanBlocks = 2_000n, relay } = params;
  const account = walletClient.account;
  /** Signed bytes not yet answered for, by action, nonce and send: sent again as they are. */
  const signed = new Map<string, Hex>();

  /** Maps a direct send's failure onto the engine's errors. */
  const sendFailure = (error: unknown): unknown => {
    if (isUserRejection(error)) return new UserRejectedError(USER_REJECTED_MESSAGE, { cause: error });
    if (!isUnreachable(error) && nonceTaken(error)) return new NonceUsedError(revertReason(error), { cause: error });
    return error;
  };

  /** Signs in the page and sends through the relay (or, without a ledger, to the node). */
  const relayed = async (params: { relay: RelayPort; key: string; request: Parameters<typeof walletClient.prepareTransactionRequest>[0] }): Promise<Hash> => {
    let raw = signed.get(params.key);
    if (!raw) {
      const prepared = await walletClient.prepareTransactionRequest(params.request);
      raw = await walletClient.signTransaction(prepared as Parameters<typeof walletClient.signTransaction>[0]);
      signed.set(params.key, raw);
    }
    try {
      const hash = await params.relay.relay(raw);
      signed.delete(params.key);
      return hash;
    } catch (error) {
      // Nothing is known: the draft waits, and these bytes go again.
      if (error instanceof LedgerUnreachableError || error instanceof LedgerAnswerError) throw new UnreachableError(error.message, { cause: error });
      if (error instanceof NoLedgerError) {
        try {
          const hash = await publicClient.sendRawTransaction({ serializedTransaction: raw });
          signed.delete(params.key);
          return hash;
        } catch (direct) {
          if (!isUnreachable(direct)) signed.delete(params.key);
          throw sendFailure(direct);
        }
      }
      signed.delete(params.key);
      // The node's refusal, relayed: the same as a direct send's.
      if (error instanceof LedgerRefusedError && error.code === "NODE_REFUSED" && NONCE_TAKEN.test(error.message)) {
        throw new NonceUsedError(error.message, { cause: error });
      }
      throw error;
    }
  };

  type ViemReceipt = { status: "success" | "reverted"; blockNumber: bigint; logs: Log[] };

  /** The receipt as the engine sees it; the log index of the action's own event. */
  const basicReceipt = (action: Action, receipt: ViemReceipt): Receipt => {
    if (receipt.status !== "success") return { status: "reverted", blockNumber: receipt.blockNumber };
    const events = parseEventLogs({ abi: ChamaAbi, logs: receipt.logs, eventName: EVENT_FOR[action.params.kind] }).filter((log) =>
      isAddressEqual(log.address, address),
    );
    return { status: "success", blockNumber: receipt.blockNumber, logIndex: events[0]?.logIndex ?? undefined };
  };

  /** Adds the decoded reason to a revert by replaying the call on the state before its block. */
  const withReason = async (action: Action, receipt: ViemReceipt): Promise<Receipt> => {
    const basic = basicReceipt(action, receipt);
    if (basic.status === "success") return basic;
    try {
      await publicClient.call({ account: action.account, to: address, ...callFor(action.params), blockNumber: receipt.blockNumber - 1n });
    } catch (error) {
      return { ...basic, revertReason: revertReason(error) };
    }
    return basic;
  };

  return {
    chainId: publicClient.chain.id,
    account: account.address,
    getBlockNumber: () => guard(() => publicClient.getBlockNumber({ cacheTime: 0 })),
    getNonce: ({ account: who, blockTag }) => guard(() => publicClient.getTransactionCount({ address: who, blockTag })),

    send: ({ action, nonce, replace }) =>
      guard(async () => {
        if (!isAddressEqual(action.account, account.address)) {
          throw new Error(`the wallet is ${account.address}, but this action belongs to ${action.account}; switch accounts to send it`);
        }
        const call = callFor(action.params);
        if (simulate) {
          try {
            await publicClient.call({ account, to: address, ...call });
          } catch (error) {
            if (isUnreachable(error)) throw error;
            throw new Error(`would revert: ${revertReason(error)}`, { cause: error });
          }
        }
        let fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | undefined;
        if (replace) {
          // A replacement must pay at least 10% more than the transaction it replaces.
          const estimate = await publicClient.estimateFeesPerGas();
          fees = {
            maxFeePerGas: (estimate.maxFeePerGas * 3n) / 2n,
            maxPriorityFeePerGas: ((estimate.maxPriorityFeePerGas || 1_000_000_000n) * 3n) / 2n,
          };
        }
        const request = {
          to: address,
          ...call,
          nonce,
          // Without simulation, skip estimation too: the call goes to the chain as asked.
          ...(simulate ? {} : { gas: 300_000n }),
          ...fees,
        };
        if (relay && account.type === "local") {
          return relayed({ relay, key: `${action.id}:${nonce}:${action.hashes.length}`, request });
        }
        let hash: Hash;
        try {
          hash = await walletClient.sendTransaction(request);
        } catch (error) {
          throw sendFailure(error);
        }
        // The wallet broadcast it itself: the ledger learns of it by hash.
        relay?.register(hash);
        return hash;
      }),

    waitForReceipt: ({ action, hash, timeoutMs, onReplaced }) =>
      guard(async () => {
        const receipt = await publicClient.waitForTransactionReceipt({
          hash,
          pollingInterval,
          timeout: timeoutMs,
          retryCount: 3,
          onReplaced: (replacement) =>
            onReplaced({
              reason: replacement.reason,
              hash: replacement.transaction.hash,
              receipt: basicReceipt(action, replacement.transactionReceipt),
            }),
        });
        return withReason(action, receipt);
      }),

    getTransaction: (hash) =>
      guard(async () => {
        try {
          const tx = await publicClient.getTransaction({ hash });
          return { blockNumber: tx.blockNumber };
        } catch (error) {
          if (error instanceof BaseError && error.walk((e) => e instanceof TransactionNotFoundError)) return undefined;
          throw error;
        }
      }),

    findByNonce: ({ action, fromBlock }) =>
      guard(async () => {
        const head = await publicClient.getBlockNumber({ cacheTime: 0 });
        const start = head - fromBlock > maxScanBlocks ? head - maxScanBlocks : fromBlock;
        const call = callFor(action.params);
        for (let n = start; n <= head; n++) {
          const block = await publicClient.getBlock({ blockNumber: n, includeTransactions: true });
          for (const tx of block.transactions) {
            if (tx.nonce !== action.nonce || !isAddressEqual(tx.from, action.account)) continue;
            const sameCall =
              tx.to !== null && isAddressEqual(tx.to, address) && tx.input.toLowerCase() === call.data.toLowerCase() && tx.value === call.value;
            const cancel = tx.to !== null && isAddressEqual(tx.to, action.account) && tx.value === 0n;
            return { hash: tx.hash, sameCall, cancel };
          }
        }
        return undefined;
      }),
  };
}
