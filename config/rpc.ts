import { type Hex, ResourceNotFoundRpcError, RpcRequestError, type Transport, custom } from "viem";
import { getHttpRpcClient } from "viem/utils";

/** How many recently seen blocks (hash -> number) the transport remembers. Ponder keeps at most
 * a finality window of unfinalized blocks, so a few hundred covers every block it can ask about. */
const REMEMBERED_BLOCKS = 512;

type RpcBlock = { hash: Hex | null; number: Hex | null } | null;

/**
 * The indexer's JSON-RPC transport: plain HTTP, plus one guard for a race that Ponder 0.16
 * handles slowly.
 *
 * In realtime, Ponder polls the head block, then asks for its logs with
 * `eth_getLogs({ blockHash })`. If a reorg replaces that block in between, the node answers
 * "unknown block" and Ponder retries the same request nine times with exponential backoff
 * (125 ms doubling: about 64 s) before it polls the head again, so the index stalls for a
 * minute after such a reorg. This transport remembers the number of every block it has
 * returned; when `eth_getLogs` by hash fails, it asks the node for the block now at that
 * number. Only if a *different* block is there (proof that a reorg replaced it, not a node that
 * has not seen it yet) does it fail with an error Ponder does not retry (its message says the
 * block was reverted), so Ponder drops the stale head and handles the reorg on its next poll.
 * Any other failure is passed through unchanged, to Ponder's usual retries.
 */
export function indexerTransport(url: string): Transport {
  return (parameters) => {
    const client = getHttpRpcClient(url, { timeout: parameters.timeout ?? 10_000 });
    const numbers = new Map<Hex, Hex>();

    const send = async (method: string, params: unknown): Promise<unknown> => {
      const body = { method, params };
      const response = await client.request({ body });
      if (response.error) throw new RpcRequestError({ body, error: response.error, url });
      return response.result;
    };

    const remember = (block: RpcBlock) => {
      if (!block?.hash || !block.number) return;
      numbers.delete(block.hash);
      numbers.set(block.hash, block.number);
      if (numbers.size > REMEMBERED_BLOCKS) numbers.delete(numbers.keys().next().value as Hex);
    };

    /** The block now at the height of `hash`, if that is provably another block. */
    const replacementOf = async (hash: Hex): Promise<{ number: Hex; hash: Hex } | undefined> => {
      const number = numbers.get(hash);
      if (number === undefined) return undefined;
      const current = (await send("eth_getBlockByNumber", [number, false]).catch(() => null)) as RpcBlock;
      if (!current?.hash || current.hash === hash) return undefined;
      return { number, hash: current.hash };
    };

    return custom({
      async request({ method, params }) {
        try {
          const result = await send(method, params);
          if (method === "eth_getBlockByNumber" || method === "eth_getBlockByHash") remember(result as RpcBlock);
          return result;
        } catch (error) {
          const blockHash = method === "eth_getLogs" ? (params as [{ blockHash?: Hex }] | undefined)?.[0]?.blockHash : undefined;
          const replacement = blockHash ? await replacementOf(blockHash) : undefined;
          if (!blockHash || !replacement) throw error;
          throw new ResourceNotFoundRpcError(
            new Error(
              `Block ${blockHash} is no longer on the chain: a reorg reverted it, and block ${replacement.hash} ` +
                `is now at height ${BigInt(replacement.number)}. Its logs cannot be fetched; the next poll handles the reorg.`,
              { cause: error },
            ),
          );
        }
      },
    })(parameters);
  };
}
