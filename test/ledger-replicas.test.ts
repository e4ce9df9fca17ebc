/**
 * The ledger with two `npm run serve` replicas on one PostgreSQL: both take intake and serve
 * reads and streams, exactly one runs the follower, and when that one is SIGKILLed the other
 * takes over within seconds.
 */
import { type Hash, encodeFunctionData, keccak256 } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { SAT } from "../common/chain";
import type { LedgerChange, LedgerHealth, LedgerTransactionWithTransitions } from "../common/ledger-api";
import type { SyncHealth } from "../common/ops-api";
import { waitFor } from "../scripts/lib/processes";
import { CHAIN_ID, type Chain, accounts, chamaAs, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";
import { scriptEnv, startReplica } from "./_support/scripts";
import { openSse } from "./_support/sse";

type Replica = Awaited<ReturnType<typeof startReplica>>;

const RETRY_MS = 500;

/** This replica's part in the ledger: leader, standby, or unknown when it does not answer. */
async function role(url: string): Promise<LedgerHealth["follower"] | undefined> {
  try {
    const health = (await (await fetch(`${url}/sync-health`)).json()) as SyncHealth;
    return health.ledger && "follower" in health.ledger ? health.ledger.follower : undefined;
  } catch {
    return undefined;
  }
}

describe("the ledger with two replicas on postgres", () => {
  let chain: Chain;
  let indexer: Indexer;
  let replicas: Replica[] = [];
  let address: `0x${string}`;
  let nonce = 0;
  const ledgerSchema = `ledger_replicas_${process.pid}`;

  /** A signed contribution from account 3, the next nonce each time. */
  const signed = async (value: bigint) =>
    accounts[3]!.signTransaction!({
      type: "eip1559",
      chainId: CHAIN_ID,
      to: address,
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
      value,
      nonce: nonce++,
      gas: 300_000n,
      maxFeePerGas: 20_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });

  const relay = async (url: string, raw: `0x${string}`) =>
    fetch(`${url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ raw }) });

  const reconciled = (url: string, hash: Hash) =>
    waitFor({
      what: `${hash} to be reconciled (read on ${url})`,
      timeoutMs: 30_000,
      intervalMs: 100,
      check: async () => {
        const body = (await (await fetch(`${url}/transactions/${hash}`)).json()) as LedgerTransactionWithTransitions;
        return body.status === "reconciled" ? body : undefined;
      },
    });

  beforeAll(async () => {
    chain = await startChain();
    const deployment = await deploy(chain);
    address = deployment.address;
    await chamaAs({ chain, address, account: accounts[0]! }).createChama("Replicas", 0n);
    nonce = await chain.publicClient.getTransactionCount({ address: accounts[3]!.address });
    const ledger = { LEDGER_SCHEMA: ledgerSchema, LEDGER_LEADER_RETRY_MS: String(RETRY_MS), LEDGER_POLL_INTERVAL_MS: "200" };
    // The indexer runs no ledger here: the two replicas share it.
    indexer = await startIndexer({ chain, address, startBlock: deployment.startBlock, database: "postgres", env: { LEDGER_ENABLED: "false" } });
    await indexer.waitForBlock();
    const env = { ...scriptEnv({ chain, address, startBlock: deployment.startBlock, database: "postgres" }), ...ledger };
    replicas = await Promise.all([startReplica({ schema: indexer.schema, env }), startReplica({ schema: indexer.schema, env })]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await indexer?.stop();
    await chain?.stop();
  });

  test("one follower at a time; intake and streams on both; the standby takes over when the leader is killed", async () => {
    const roles = await waitFor({
      what: "one replica to lead the ledger and the other to stand by",
      timeoutMs: 30_000,
      intervalMs: 100,
      check: async () => {
        const r = await Promise.all(replicas.map((x) => role(x.url)));
        return [...r].sort().join() === "leader,standby" ? r : undefined;
      },
    });
    const leader = replicas[roles.indexOf("leader")]!;
    const standby = replicas[roles.indexOf("standby")]!;

    // Intake on the standby; the leader's follower settles it; the standby's stream sees it.
    const stream = await openSse({ url: `${standby.url}/transactions/stream?from=${accounts[3]!.address}` });
    try {
      await stream.next({ what: "the standby's stream to be ready", match: (m) => m.event === "ready" });
      const raw = await signed(11n * SAT);
      expect((await relay(standby.url, raw)).status).toBe(201);
      const hash = keccak256(raw);
      await reconciled(leader.url, hash);
      await stream.next({
        what: "the reconciled change on the standby's stream",
        match: (m) => m.event === "transaction" && (JSON.parse(m.data) as LedgerChange).transition.to === "reconciled",
      });
    } finally {
      stream.close();
    }
    expect(await role(leader.url)).toBe("leader");

    const killedAt = Date.now();
    await leader.kill();
    await waitFor({ what: "the standby to take over the follower", timeoutMs: 15_000, intervalMs: 50, check: async () => ((await role(standby.url)) === "leader" ? true : undefined) });
    const takeoverMs = Date.now() - killedAt;
    console.log(`ledger follower take-over after SIGKILL of the leader: ${takeoverMs} ms (retry every ${RETRY_MS} ms)`);

    const raw = await signed(12n * SAT);
    expect((await relay(standby.url, raw)).status).toBe(201);
    const after = await reconciled(standby.url, keccak256(raw));
    expect(after.transitions.map((t) => t.to)).toEqual(["draft", "pending", "confirmed", "reconciled"]);
  });
});
