/**
 * The chain's side of a reconciliation, at block B: the contract's logs up to B, its views
 * (`getChama`, `contributedBy`, `receivedBy`) and its native balance at B. Contract reads go out
 * as JSON-RPC batches, and every call is counted.
 */
import { type Address, type Hex, createPublicClient, getAddress, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";

/** A viem client whose calls go out as JSON-RPC batches, counting calls and HTTP requests. */
export function countingClient(params: { rpcUrl: string; batchSize: number; timeoutMs: number }) {
  const stats = { calls: 0, httpRequests: 0 };
  const client = createPublicClient({
    transport: http(params.rpcUrl, {
      batch: { batchSize: params.batchSize },
      timeout: params.timeoutMs,
      retryCount: 2,
      onFetchRequest: (_request, init) => {
        stats.httpRequests += 1;
        const body: unknown = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
        stats.calls += Array.isArray(body) ? body.length : 1;
      },
    }),
  });
  return { client, stats };
}

/** The contract at block B, and how many calls go into one batch. */
export type ChainAt = { client: ReturnType<typeof countingClient>["client"]; address: Address; blockNumber: bigint; batchSize: number };

/** A contribution or payout log, with the member's address lowercased. */
export type ChainLog = {
  kind: "contribution" | "payout";
  chamaId: bigint;
  address: string;
  amount: bigint;
  timestamp: bigint;
  blockNumber: bigint;
  transactionHash: Hex;
  logIndex: number;
};

/** A chama as `getChama` reports it at B. */
export type ChainChama = { id: bigint; creator: Address; name: string; contributionAmount: bigint; totalContributed: bigint; totalPaidOut: bigint };

/** A member (chama id, lowercased address) with what `contributedBy` and `receivedBy` report at B. */
export type ChainMember = { chamaId: bigint; address: string; contributed: bigint; received: bigint };

/** Runs `fn` over `items` in chunks of `size` at once; with a batching transport each chunk goes
 * out as one JSON-RPC batch. */
async function inChunks<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** Block ranges of at most `logRange` blocks from `fromBlock` to `toBlock`. */
function blockRanges(fromBlock: bigint, toBlock: bigint, logRange: bigint): [bigint, bigint][] {
  const ranges: [bigint, bigint][] = [];
  for (let start = fromBlock; start <= toBlock; start += logRange) {
    const end = start + logRange - 1n < toBlock ? start + logRange - 1n : toBlock;
    ranges.push([start, end]);
  }
  return ranges;
}

/** Every log of the contract from `fromBlock` to B, ten ranges at a time: `count` counts them
 * all, `logs` keeps the contributions and payouts in chain order, `mined` where each
 * transaction with a log was mined (lowercase hashes; the ledger check's receipts). */
export async function readLogs(
  params: ChainAt & { fromBlock: bigint; logRange: bigint },
): Promise<{ count: number; logs: ChainLog[]; mined: Map<string, { blockNumber: bigint; blockHash: string }> }> {
  const { client, address } = params;
  const fetchLogs = (fromBlock: bigint, toBlock: bigint) => client.getContractEvents({ address, abi: ChamaAbi, fromBlock, toBlock, strict: true });
  /** eth_getLogs over a range; when the answer is refused or too big (viem caps a response at
   * 10 MB, providers cap result counts), the range is halved until it fits. */
  const getLogs = async (fromBlock: bigint, toBlock: bigint): Promise<Awaited<ReturnType<typeof fetchLogs>>> => {
    try {
      return await fetchLogs(fromBlock, toBlock);
    } catch (error) {
      if (fromBlock >= toBlock) throw error;
      const middle = (fromBlock + toBlock) / 2n;
      return [...(await getLogs(fromBlock, middle)), ...(await getLogs(middle + 1n, toBlock))];
    }
  };
  const pages = await inChunks(blockRanges(params.fromBlock, params.blockNumber, params.logRange), 10, ([fromBlock, toBlock]) => getLogs(fromBlock, toBlock));
  const logs: ChainLog[] = [];
  const mined = new Map<string, { blockNumber: bigint; blockHash: string }>();
  let count = 0;
  for (const log of pages.flat()) {
    count += 1;
    const { blockNumber, transactionHash, logIndex } = log;
    mined.set(transactionHash.toLowerCase(), { blockNumber, blockHash: log.blockHash.toLowerCase() });
    if (log.eventName === "ContributionMade") {
      const { chamaId, contributor, amount, timestamp } = log.args;
      logs.push({ kind: "contribution", chamaId, address: contributor.toLowerCase(), amount, timestamp, blockNumber, transactionHash, logIndex });
    } else if (log.eventName === "PayoutProcessed") {
      const { chamaId, recipient, amount, timestamp } = log.args;
      logs.push({ kind: "payout", chamaId, address: recipient.toLowerCase(), amount, timestamp, blockNumber, transactionHash, logIndex });
    }
  }
  return { count, logs, mined };
}

/** Receipts by hash (null: the chain has none), in batches. */
export async function readReceipts(params: Pick<ChainAt, "client" | "batchSize"> & { hashes: string[] }) {
  const { client } = params;
  const receipts = await inChunks(params.hashes, params.batchSize, async (hash) => {
    const receipt = await client.request({ method: "eth_getTransactionReceipt", params: [hash as Hex] });
    return receipt ? { status: receipt.status === "0x1" ? ("success" as const) : ("reverted" as const), blockNumber: BigInt(receipt.blockNumber), blockHash: receipt.blockHash.toLowerCase() } : null;
  });
  return new Map(params.hashes.map((hash, i) => [hash.toLowerCase(), receipts[i]!] as const));
}

/** Every chama the contract holds at B (ids 1..chamaCount), with `getChama`. */
export async function readChamas(params: ChainAt): Promise<ChainChama[]> {
  const { client, address, blockNumber } = params;
  const chamaCount = await client.readContract({ address, abi: ChamaAbi, functionName: "chamaCount", blockNumber });
  const ids: bigint[] = [];
  for (let id = 1n; id <= chamaCount; id++) ids.push(id);
  const views = await inChunks(ids, params.batchSize, (id) => client.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [id], blockNumber }));
  return ids.map((id, i) => {
    const [creator, name, contributionAmount, totalContributed, totalPaidOut] = views[i]!;
    return { id, creator, name, contributionAmount, totalContributed, totalPaidOut };
  });
}

/** `contributedBy` and `receivedBy` at B for each member asked about, in order (two calls a
 * member, so half a batch of members at a time). */
export async function readMembers(params: ChainAt & { members: { chamaId: bigint; address: string }[] }): Promise<ChainMember[]> {
  const { client, address, blockNumber } = params;
  const memberArgs = params.members.map((m) => [m.chamaId, getAddress(m.address)] as const);
  const views = await inChunks(memberArgs, Math.max(1, Math.floor(params.batchSize / 2)), (args) =>
    Promise.all([
      client.readContract({ address, abi: ChamaAbi, functionName: "contributedBy", args, blockNumber }),
      client.readContract({ address, abi: ChamaAbi, functionName: "receivedBy", args, blockNumber }),
    ]),
  );
  return params.members.map(({ chamaId, address }, i) => {
    const [contributed, received] = views[i]!;
    return { chamaId, address, contributed, received };
  });
}

/** The contract's native balance at B. */
export function readBalance(params: ChainAt): Promise<bigint> {
  return params.client.getBalance({ address: params.address, blockNumber: params.blockNumber });
}
