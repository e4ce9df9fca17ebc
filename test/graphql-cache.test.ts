/**
 * The GraphQL response cache against a real anvil and the real indexer, on PGlite and on
 * PostgreSQL: a repeated request is answered from the cache, an indexed block changes the very
 * next answer, and after a reorg no cached answer is older than what an uncached request sees.
 */
import { type Address, encodeFunctionData, numberToHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { CACHE_HEADER } from "../src/api/response-cache";
import { accounts, type Chain, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { SAT } from "../common/chain";
import { waitFor } from "../scripts/lib/processes";
import { expectedTables } from "./_support/truth";

const DETAIL = `query($id: BigInt!) { chama(id: $id) {
  totalContributed contributionCount
  contributions(orderBy: "blockNumber", orderDirection: "desc", limit: 50) { items { transactionHash amount } } } }`;

type Detail = {
  chama: { totalContributed: string; contributionCount: number; contributions: { items: { transactionHash: string; amount: string }[] } };
};

type Answer = { cache: string | null; body: string; data: Detail };

describe.each(databases)("GraphQL response cache on %s", (database) => {
  let chain: Chain;
  let indexer: Indexer;
  let address: Address;
  let startBlock: number;

  const member = (i: number) => chamaAs({ chain, address, account: accounts[i]! });

  /** Asks for chama 1 the way the web app does; `uncached` sends Cache-Control: no-cache. */
  async function ask(params: { uncached?: boolean } = {}): Promise<Answer> {
    const response = await fetch(`${indexer.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(params.uncached ? { "cache-control": "no-cache" } : {}) },
      body: JSON.stringify({ query: DETAIL, variables: { id: "1" } }),
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    const parsed = JSON.parse(body) as { data?: Detail; errors?: unknown };
    expect(parsed.errors).toBeUndefined();
    return { cache: response.headers.get(CACHE_HEADER), body, data: parsed.data! };
  }

  /** Repeats the request until the cache answers it; returns that answer. */
  async function cachedAnswer(): Promise<Answer> {
    return waitFor({
      what: "a cache hit",
      timeoutMs: 15_000,
      intervalMs: 50,
      check: async () => {
        const answer = await ask();
        return answer.cache === "hit" ? answer : undefined;
      },
    });
  }

  const hashes = (answer: Answer) => answer.data.chama.contributions.items.map((c) => c.transactionHash);

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await member(0).createChama("Alpha", 0n);
    await member(2).contribute(1n, 1_000n * SAT);
    // Past the finality window, so the indexer goes live (and reorgs are recoverable).
    await chain.testClient.mine({ blocks: 40 });
    indexer = await startIndexer({ chain, address, startBlock, database });
    await indexer.waitForBlock();
  });

  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  test("a repeated request is a hit; a newly indexed block changes the very next answer", async () => {
    const before = await cachedAnswer();
    expect(before.data.chama.contributionCount).toBe(1);
    // The same bytes as an uncached execution.
    expect((await ask({ uncached: true })).body).toBe(before.body);

    const receipt = await member(3).contribute(1n, 2_500n * SAT);
    // Wait on /status (the checkpoint), not on the answer under test.
    await indexer.waitForBlock(receipt.blockNumber);
    const after = await ask();
    expect(after.cache).toBe("miss");
    expect(hashes(after)).toContain(receipt.transactionHash);
    expect(BigInt(after.data.chama.totalContributed)).toBe(BigInt(before.data.chama.totalContributed) + 2_500n * SAT);

    const cached = await cachedAnswer();
    expect(cached.body).toBe(after.body);
  });

  test("anvil_reorg: once an uncached request sees the rollback, no cached answer predates it", async () => {
    const gone = await member(4).contribute(1n, 7_777n);
    await indexer.waitForBlock(gone.blockNumber);
    const before = await cachedAnswer();
    expect(hashes(before)).toContain(gone.transactionHash);

    const replacement = {
      from: accounts[5]!.address,
      to: address,
      value: numberToHex(4_242n),
      gas: numberToHex(200_000n),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
    };
    await chain.testClient.request({ method: "anvil_reorg" as never, params: [1, [[replacement, 0]]] as never });

    // Each round: an uncached request, then a cached one sent after it returned. From the
    // first round whose uncached answer lacks the reorged transaction on, the cached one must
    // lack it too (the rollback and the replacement block commit separately, so a round may
    // land between them).
    let rounds = 0;
    // Recorded, not thrown: waitFor retries on a throw, which would hide a stale round.
    const stale: string[] = [];
    const settled = await waitFor({
      what: "the reorg to be indexed",
      timeoutMs: 30_000,
      intervalMs: 0,
      check: async () => {
        rounds++;
        const fresh = await ask({ uncached: true });
        const cached = await ask();
        if (hashes(fresh).includes(gone.transactionHash)) return undefined;
        if (hashes(cached).includes(gone.transactionHash)) stale.push(`round ${rounds}: ${cached.cache} ${cached.body}`);
        return fresh.data.chama.contributions.items.some((c) => c.amount === "4242") ? { fresh, cached } : undefined;
      },
    });
    expect(stale).toEqual([]);
    expect(rounds).toBeGreaterThan(0);
    // Ponder runs a query's fields as separate statements, so an uncached answer that spans a
    // commit can mix the two states; the cached one, sent after it, is never older.
    expect(hashes(settled.cached)).not.toContain(gone.transactionHash);

    // And the answer is the chain's.
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const truth = await expectedTables({ chain, address, fromBlock: BigInt(startBlock), toBlock: head });
    const alpha = truth.chamas.find((c) => c.id === "1")!;
    const final = await cachedAnswer();
    expect(final.data.chama.totalContributed).toBe(alpha.totalContributed);
    expect(final.data.chama.contributionCount).toBe(alpha.contributionCount);
    expect(new Set(hashes(final))).toEqual(new Set(truth.contributions.filter((c) => c.chamaId === "1").map((c) => c.transactionHash)));
  });
});
