/**
 * Builds benchmark chains on anvil: Chama deployed, chamas created, then contributions and
 * payouts packed densely (hundreds per block) or sparsely (one per block). Transactions are
 * sent in JSON-RPC batches from impersonated accounts (anvil signs them), with explicit nonces
 * and gas, and blocks are mined on demand. The finished chain is dumped with anvil_dumpState
 * and cached under bench/.cache, so later runs only load it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { type Address, type Hex, encodeFunctionData, getAddress, toHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { SAT, anvilAccount } from "../common/chain";
import { type Anvil, startAnvil } from "../scripts/lib/anvil";
import { chamaArtifact, projectRoot } from "../scripts/lib/chama";
import { getFreePort } from "../scripts/lib/ports";
import { type RpcCall, rpc, rpcBatch } from "../test/_support/json-rpc";

export const CACHE_DIR = path.join(projectRoot, "bench", ".cache");

/** Empty blocks mined after the last event so every event is past Ponder's 30-block finality
 * window and is indexed by the backfill, not the realtime sync. */
const FINALITY_PADDING = 40;
/** anvil account 0, which deploys. */
const DEPLOYER = anvilAccount(0).address;

export type ChainSpec = {
  /** Number of ContributionMade events. */
  contributions: number;
  /** Contributions per block: hundreds for dense, 1 for sparse. */
  perBlock: number;
  chamas: number;
  /** Distinct contributing addresses. */
  contributors: number;
  /** One payout per this many contributions (0 = none). */
  payoutEvery: number;
};

export type ChainMeta = {
  spec: ChainSpec;
  address: Address;
  startBlock: number;
  /** Block of the last Chama event. */
  lastEventBlock: number;
  headBlock: number;
  counts: { chamas: number; contributions: number; payouts: number; events: number };
  /** Sum of all contributions, wei, as a decimal string. */
  totalContributed: string;
  generatedSeconds: number;
};

export type CachedChain = { meta: ChainMeta; stateFile: string };

export function specKey(spec: ChainSpec): string {
  return `chama-c${spec.contributions}-b${spec.perBlock}-n${spec.chamas}-a${spec.contributors}-p${spec.payoutEvery}-v2`;
}

/** Deterministic address for the i-th generated account (never a precompile). */
function syntheticAddress(i: number): Address {
  return getAddress(`0x${(0x1000000 + i).toString(16).padStart(40, "0")}`);
}

/** The chama that contribution `i` goes to: spread over all chamas, reproducibly. */
function chamaFor(i: number, chamas: number): bigint {
  return BigInt(1 + ((i * 7919) % chamas));
}

/** Returns the cached chain for `spec`, generating and caching it first if needed. */
export async function ensureChain(params: { spec: ChainSpec; log: (line: string) => void }): Promise<CachedChain> {
  const key = specKey(params.spec);
  const metaFile = path.join(CACHE_DIR, `${key}.json`);
  const stateFile = path.join(CACHE_DIR, `${key}.state`);
  if (existsSync(metaFile) && existsSync(stateFile)) {
    return { meta: JSON.parse(readFileSync(metaFile, "utf8")) as ChainMeta, stateFile };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const anvil = await startAnvil({
    port: await getFreePort(),
    // Base fee 0 stays 0: one-transaction blocks above the gas target would otherwise raise it
    // 12.5% a block until no transaction can pay it.
    args: ["--no-mining", "--auto-impersonate", "--gas-limit", "1000000000", "--prune-history", "--base-fee", "0"],
  });
  try {
    const meta = await generate({ url: anvil.rpcUrl, spec: params.spec, log: params.log });
    // anvil_dumpState answers gzipped JSON as hex; --load-state reads the JSON.
    const state = Buffer.from((await rpc<Hex>(anvil.rpcUrl, "anvil_dumpState")).slice(2), "hex");
    writeFileSync(stateFile, state[0] === 0x1f && state[1] === 0x8b ? gunzipSync(state) : state);
    writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    return { meta, stateFile };
  } finally {
    await anvil.stop();
  }
}

/** Starts a fresh anvil holding the cached chain. */
export async function loadChain(chain: CachedChain): Promise<Anvil> {
  // The dense chain's state is about 150 MB of JSON: on a busy machine anvil needs well over
  // the default 15 s to load it before it answers.
  const anvil = await startAnvil({ port: await getFreePort(), args: ["--no-mining", "--load-state", chain.stateFile], readyTimeoutMs: 180_000 });
  const head = Number(await rpc<Hex>(anvil.rpcUrl, "eth_blockNumber"));
  if (head !== chain.meta.headBlock) {
    await anvil.stop();
    throw new Error(`Loaded chain is at block ${head}, expected ${chain.meta.headBlock}: delete ${CACHE_DIR} and run again.`);
  }
  return anvil;
}

async function generate(params: { url: string; spec: ChainSpec; log: (line: string) => void }): Promise<ChainMeta> {
  const { url, spec, log } = params;
  const started = Date.now();
  const mine = () => rpc(url, "evm_mine");

  await rpc(url, "eth_sendTransaction", [{ from: DEPLOYER, data: chamaArtifact().bytecode, gas: toHex(5_000_000) }]);
  await mine();
  const deployBlock = await rpc<{ number: Hex; transactions: Hex[] }>(url, "eth_getBlockByNumber", ["latest", false]);
  const receipt = await rpc<{ contractAddress: Address; status: Hex }>(url, "eth_getTransactionReceipt", [deployBlock.transactions[0]]);
  if (receipt.status !== "0x1") throw new Error("Chama deployment reverted");
  const address = getAddress(receipt.contractAddress);
  const startBlock = Number(deployBlock.number);

  // Creators are accounts 0..chamas-1, contributors the next `contributors` accounts.
  const creators = Array.from({ length: spec.chamas }, (_, i) => syntheticAddress(i));
  const contributors = Array.from({ length: spec.contributors }, (_, i) => syntheticAddress(spec.chamas + i));
  const nonces = new Map<Address, number>();
  const nextNonce = (from: Address) => {
    const n = nonces.get(from) ?? 0;
    nonces.set(from, n + 1);
    return toHex(n);
  };
  const balance = toHex(10n ** 24n);
  for (let i = 0; i < creators.length + contributors.length; i += 2_000) {
    const slice = [...creators, ...contributors].slice(i, i + 2_000);
    await rpcBatch(url, slice.map((a) => ({ method: "anvil_setBalance", params: [a, balance] })));
  }

  const tx = (from: Address, data: Hex, value = 0n, gas = 200_000): RpcCall => ({
    method: "eth_sendTransaction",
    params: [{ from, to: address, data, value: toHex(value), gas: toHex(gas), nonce: nextNonce(from) }],
  });

  // Chamas: created densely in every variant.
  for (let i = 0; i < spec.chamas; i += 500) {
    const calls = creators.slice(i, i + 500).map((creator, j) =>
      tx(creator, encodeFunctionData({ abi: ChamaAbi, functionName: "createChama", args: [`Chama ${i + j + 1}`, SAT] })),
    );
    await rpcBatch(url, calls);
    await mine();
  }
  // Ids follow execution order inside each block, which need not be send order: read them back.
  const creatorOf = new Map<bigint, Address>();
  const created = await rpc<{ topics: Hex[] }[]>(url, "eth_getLogs", [{ address, fromBlock: toHex(startBlock), toBlock: "latest" }]);
  for (const entry of created) {
    creatorOf.set(BigInt(entry.topics[1]!), getAddress(`0x${entry.topics[2]!.slice(26)}`));
  }
  if (creatorOf.size !== spec.chamas) throw new Error(`Created ${creatorOf.size} chamas, expected ${spec.chamas}.`);
  log(`  ${spec.chamas} chamas created`);

  // Contributions and payouts. A payout only spends what earlier blocks contributed, so it
  // can never revert whatever order the block puts it in.
  //
  // Sparse chains get one transaction per block without a round trip per block: the block gas
  // limit is set so one contribution fits and two never do (a contribution uses 38k-73k gas),
  // and anvil_mine then mines one block per pending transaction. Payouts, which use more, get
  // their own blocks under a raised limit.
  const sparse = spec.perBlock === 1;
  const BLOCK_GAS = 1_000_000_000;
  const SPARSE_BLOCK_GAS = 75_000;
  if (sparse) await rpc(url, "anvil_setBlockGasLimit", [toHex(SPARSE_BLOCK_GAS)]);
  const settled = new Array<bigint>(spec.chamas + 1).fill(0n);
  const pending = new Array<bigint>(spec.chamas + 1).fill(0n);
  const lastContributor = new Array<Address | undefined>(spec.chamas + 1);
  let payouts = 0;
  let totalContributed = 0n;
  let block: RpcCall[] = [];
  let lastProgress = Date.now();
  const flush = async () => {
    if (block.length === 0) return;
    await rpcBatch(url, block);
    if (sparse) await rpc(url, "anvil_mine", [toHex(block.length)]);
    else await mine();
    block = [];
    for (let c = 1; c <= spec.chamas; c++) {
      if (pending[c] !== 0n) {
        settled[c] = settled[c]! + pending[c]!;
        pending[c] = 0n;
      }
    }
  };
  const contributeGas = sparse ? SPARSE_BLOCK_GAS : 200_000;
  for (let i = 0; i < spec.contributions; i++) {
    const chamaId = chamaFor(i, spec.chamas);
    const contributor = contributors[i % contributors.length]!;
    const value = BigInt(1 + (i % 5)) * SAT;
    block.push(tx(contributor, encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [chamaId] }), value, contributeGas));
    pending[Number(chamaId)] = pending[Number(chamaId)]! + value;
    lastContributor[Number(chamaId)] = contributor;
    totalContributed += value;
    // Small sparse batches: every pending transaction is looked at for each block mined.
    if (block.length >= (sparse ? 50 : spec.perBlock)) await flush();

    if (spec.payoutEvery > 0 && (i + 1) % spec.payoutEvery === 0) {
      const payChama = chamaFor(i - 1, spec.chamas);
      const recipient = lastContributor[Number(payChama)];
      if (recipient && settled[Number(payChama)]! >= SAT) {
        settled[Number(payChama)] = settled[Number(payChama)]! - SAT;
        const payout = tx(creatorOf.get(payChama)!, encodeFunctionData({ abi: ChamaAbi, functionName: "payout", args: [payChama, recipient, SAT] }));
        payouts++;
        if (sparse) {
          await flush();
          await rpc(url, "anvil_setBlockGasLimit", [toHex(BLOCK_GAS)]);
          await rpcBatch(url, [payout]);
          await mine();
          await rpc(url, "anvil_setBlockGasLimit", [toHex(SPARSE_BLOCK_GAS)]);
        } else {
          block.push(payout);
          if (block.length >= spec.perBlock) await flush();
        }
      }
    }
    if (Date.now() - lastProgress > 2_000) {
      lastProgress = Date.now();
      log(`  ${i + 1}/${spec.contributions} contributions sent (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  await flush();
  const lastEventBlock = Number(await rpc<Hex>(url, "eth_blockNumber"));
  await rpc(url, "anvil_mine", [toHex(FINALITY_PADDING)]);
  const headBlock = Number(await rpc<Hex>(url, "eth_blockNumber"));

  // Every transaction must have succeeded: count the logs the chain really holds.
  const logs = await rpc<{ topics: Hex[]; blockNumber: Hex }[]>(url, "eth_getLogs", [{ address, fromBlock: toHex(startBlock), toBlock: toHex(headBlock) }]);
  const expected = spec.chamas + spec.contributions + payouts;
  if (logs.length !== expected) {
    throw new Error(`Generated chain holds ${logs.length} Chama events, expected ${expected}: some transactions reverted.`);
  }
  const eventBlocks = new Set(logs.slice(spec.chamas).map((entry) => entry.blockNumber)).size;
  if (sparse && eventBlocks !== spec.contributions + payouts) {
    throw new Error(`Sparse chain packs ${spec.contributions + payouts} events into ${eventBlocks} blocks, expected one per block.`);
  }
  const meta: ChainMeta = {
    spec,
    address,
    startBlock,
    lastEventBlock,
    headBlock,
    counts: { chamas: spec.chamas, contributions: spec.contributions, payouts, events: expected },
    totalContributed: totalContributed.toString(),
    generatedSeconds: (Date.now() - started) / 1000,
  };
  log(`  chain ready: ${expected} events in blocks ${startBlock}..${lastEventBlock}, head ${headBlock} (${meta.generatedSeconds.toFixed(1)} s)`);
  return meta;
}
