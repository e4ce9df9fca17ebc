/**
 * Seeds demo data into a deployed Chama: a few chamas, dozens of contributions from several dev
 * accounts, and some payouts, spread over the days between the chain's clock and now.
 *
 *   npm run seed        # against the local anvil and deployments/31337.json
 */
import { fileURLToPath } from "node:url";
import { type Address, type Hex, createTestClient, http } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { LOCAL_CHAIN_ID, SAT, chainFor } from "../common/chain";
import { ConfigError, loadEnv } from "../config/env";
import { clientsFor, devAccounts, projectRoot } from "./lib/chama";
import { runMain } from "./lib/main";
import { createRandom } from "./lib/random";

const CHAMAS = [
  { name: "Mama Mboga Savers", minimum: 1_000n * SAT, admin: 0 },
  { name: "Boda Boda Riders", minimum: 5_000n * SAT, admin: 1 },
  { name: "Jenga Youth Group", minimum: 0n, admin: 2 },
  { name: "Harambee Investment Club", minimum: 10_000n * SAT, admin: 0 },
] as const;

export type SeedDemoParameters = {
  rpcUrl: string;
  address: Address;
  chainId?: number;
  contributions?: number;
  payouts?: number;
  /** Deterministic randomness: same seed, same data. */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
};

export type SeedDemoReturnType = { chamas: number; contributions: number; payouts: number; lastBlock: bigint };

/** Sends the demo transactions one by one (automine: one block each) and returns the counts. */
export async function seedDemo(params: SeedDemoParameters): Promise<SeedDemoReturnType> {
  const { rpcUrl, address, chainId = LOCAL_CHAIN_ID, contributions = 48, payouts = 6, seed = 7 } = params;
  const accounts = devAccounts(6);
  const next = createRandom(seed).int;
  const testClient = createTestClient({ chain: chainFor({ chainId, rpcUrl }), mode: "anvil", transport: http(rpcUrl) });
  const reader = clientsFor({ chainId, rpcUrl, account: accounts[0]! }).publicClient;

  const total = CHAMAS.length + contributions + payouts;
  // Spread the transactions evenly from the chain's clock to now, so daily charts have history.
  const start = (await reader.getBlock()).timestamp;
  const now = BigInt(Math.floor(Date.now() / 1000));
  const step = now > start + BigInt(total) ? (now - start) / BigInt(total) : 0n;
  let done = 0;
  let lastBlock = 0n;

  async function send(accountIndex: number, write: (wallet: ReturnType<typeof clientsFor>["walletClient"]) => Promise<Hex>) {
    const { walletClient, publicClient } = clientsFor({ chainId, rpcUrl, account: accounts[accountIndex]! });
    if (step > 0n) await testClient.setNextBlockTimestamp({ timestamp: start + step * BigInt(done + 1) });
    const hash = await write(walletClient);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`Seed transaction ${hash} reverted.`);
    lastBlock = receipt.blockNumber;
    done += 1;
    params.onProgress?.(done, total);
  }

  const firstId = (await reader.readContract({ address, abi: ChamaAbi, functionName: "chamaCount" })) + 1n;
  for (const chama of CHAMAS) {
    await send(chama.admin, (wallet) =>
      wallet.writeContract({ address, abi: ChamaAbi, functionName: "createChama", args: [chama.name, chama.minimum] }),
    );
  }

  const balances = CHAMAS.map(() => 0n);
  const payoutAt = new Set(Array.from({ length: payouts }, (_, i) => Math.floor(((i + 1) * contributions) / (payouts + 1))));
  let paid = 0;
  for (let i = 0; i < contributions; i++) {
    const index = next(CHAMAS.length);
    const chama = CHAMAS[index]!;
    const base = chama.minimum > 0n ? chama.minimum : 1_000n * SAT;
    const amount = base * BigInt(1 + next(5));
    await send(1 + next(accounts.length - 1), (wallet) =>
      wallet.writeContract({ address, abi: ChamaAbi, functionName: "contribute", args: [firstId + BigInt(index)], value: amount }),
    );
    balances[index] = balances[index]! + amount;

    if (payoutAt.has(i)) {
      // Pay half of the fullest chama's pot to one of its members, as its admin.
      const fullest = balances.indexOf(balances.reduce((a, b) => (b > a ? b : a)));
      const amountOut = balances[fullest]! / 2n;
      const recipient = accounts[1 + next(accounts.length - 1)]!.address;
      await send(CHAMAS[fullest]!.admin, (wallet) =>
        wallet.writeContract({ address, abi: ChamaAbi, functionName: "payout", args: [firstId + BigInt(fullest), recipient, amountOut] }),
      );
      balances[fullest] = balances[fullest]! - amountOut;
      paid += 1;
    }
  }
  return { chamas: CHAMAS.length, contributions, payouts: paid, lastBlock };
}

/** Prints "seeding 12/58" style progress, at most every 10 transactions. */
export function printProgress(done: number, total: number) {
  if (done === total || done % 10 === 0) console.log(`  seeding ${done}/${total} transactions`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runMain(async () => {
    const env = loadEnv({ root: projectRoot });
    if (env.chainId !== LOCAL_CHAIN_ID) {
      throw new ConfigError(`npm run seed sends from anvil's dev accounts and runs only on chain ${LOCAL_CHAIN_ID}, not ${env.chainId}.`);
    }
    console.log(`Seeding demo data into Chama ${env.chamaAddress} on chain ${env.chainId}…`);
    const result = await seedDemo({ rpcUrl: env.rpcUrl, address: env.chamaAddress, chainId: env.chainId, onProgress: printProgress });
    console.log(`Seeded ${result.chamas} chamas, ${result.contributions} contributions, ${result.payouts} payouts (up to block ${result.lastBlock}).`);
  });
}
