/**
 * The test chain: a real anvil on a free port with its own PostgreSQL database, the dev
 * accounts, a deployed Chama and typed write helpers around it. Each setup returns its own
 * teardown.
 */
import { type Account, type Address, type Hash, createTestClient, http } from "viem";
import { ChamaAbi } from "../../abis/ChamaAbi";
import { LOCAL_CHAIN_ID, chainFor } from "../../common/chain";
import { type Anvil, startAnvil } from "../../scripts/lib/anvil";
import { clientsFor, deployChama, devAccounts } from "../../scripts/lib/chama";
import { getFreePort } from "../../scripts/lib/ports";
import { createDatabase } from "./postgres";

export const CHAIN_ID = LOCAL_CHAIN_ID;
export const accounts = devAccounts(10);

export type Database = "pglite" | "postgres";

/** The databases the indexer suites run on. PostgreSQL comes from test/global-setup.ts. */
export const databases: Database[] = ["pglite", "postgres"];

/** Connection string of the test PostgreSQL cluster, set by test/global-setup.ts. */
export function postgresUrl(): string {
  const url = process.env.JENGA_TEST_DATABASE_URL;
  if (!url) throw new Error("JENGA_TEST_DATABASE_URL is not set: run the tests through vitest (test/global-setup.ts starts PostgreSQL).");
  return url;
}

export type Chain = {
  anvil: Anvil;
  rpcUrl: string;
  /** This chain's own PostgreSQL database (when the test cluster is up). Ponder's `ponder_sync`
   * cache is per database and keyed by chain id, so two anvil chains that reuse chain id 31337,
   * addresses and transaction hashes must never share one. */
  databaseUrl: string | undefined;
  testClient: ReturnType<typeof createTestClient>;
  publicClient: ReturnType<typeof clientsFor>["publicClient"];
  stop: () => Promise<void>;
};

/** Starts anvil (automine) on a free port, with its own PostgreSQL database when the test
 * cluster is up; stop() removes both. */
export async function startChain(params: { chainId?: number; args?: string[] } = {}): Promise<Chain> {
  const chainId = params.chainId ?? CHAIN_ID;
  const anvil = await startAnvil({ port: await getFreePort(), chainId, args: params.args });
  const chain = chainFor({ chainId, rpcUrl: anvil.rpcUrl });
  const testClient = createTestClient({ chain, mode: "anvil", transport: http(anvil.rpcUrl) });
  const { publicClient } = clientsFor({ chainId, rpcUrl: anvil.rpcUrl, account: accounts[0]! });
  const database = process.env.JENGA_TEST_DATABASE_URL ? await createDatabase({ clusterUrl: postgresUrl(), prefix: "chain" }) : undefined;
  const stop = async () => {
    await anvil.stop();
    await database?.drop();
  };
  return { anvil, rpcUrl: anvil.rpcUrl, databaseUrl: database?.url, testClient, publicClient, stop };
}

/** Deploys Chama from account 0 and mines the block. */
export async function deploy(chain: Chain) {
  return deployChama({ chainId: CHAIN_ID, rpcUrl: chain.rpcUrl, account: accounts[0]! });
}

/** Typed write helpers for one account against a deployed Chama; each waits for the receipt. */
export function chamaAs(params: { chain: Chain; address: Address; account: Account }) {
  const { walletClient, publicClient } = clientsFor({ chainId: CHAIN_ID, rpcUrl: params.chain.rpcUrl, account: params.account });
  const { address } = params;
  const send = async (hash: Hash) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`tx ${hash} reverted`);
    return receipt;
  };
  return {
    account: params.account,
    createChama: async (name: string, minimum: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "createChama", args: [name, minimum] })),
    contribute: async (chamaId: bigint, value: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value })),
    payout: async (chamaId: bigint, recipient: Address, amount: bigint) =>
      send(await walletClient.writeContract({ address, abi: ChamaAbi, functionName: "payout", args: [chamaId, recipient, amount] })),
    /** Sends without waiting (for packing many transactions into one block with mining paused). */
    contributeNoWait: (chamaId: bigint, value: bigint, nonce?: number) =>
      walletClient.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [chamaId], value, nonce, gas: 200_000n }),
    walletClient,
  };
}
