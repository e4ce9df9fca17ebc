/**
 * The chaos harness: a seeded, randomized scenario runner that drives a real anvil and the real
 * indexer process through workload, reorgs inside the finality window, SIGKILL crashes and RPC
 * faults, and after each scenario checks the invariant against ground truth computed from
 * eth_getLogs and the contract's views. At the end a fresh index of the same chain must equal
 * the long-running one.
 *
 *   npm run chaos -- [--scenarios 50] [--seed 1] [--database both|pglite|postgres]
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Address, type Hash, type Hex, encodeFunctionData, getAddress, numberToHex } from "viem";
import { ChamaAbi } from "../abis/ChamaAbi";
import { PONDER_FINALITY_BLOCKS } from "../common/chain";
import { JengaError } from "../common/errors";
import { startPostgres } from "../scripts/lib/postgres";
import { type Random, createRandom } from "../scripts/lib/random";
import { accounts, type Chain, chamaAs, type Database, deploy, startChain } from "../test/_support/chain";
import { type Indexer, type IndexerStorage, removeStorage, startIndexer } from "../test/_support/indexer";
import { SAT } from "../common/chain";
import { waitFor } from "../scripts/lib/processes";
import { expectedTables, indexedTables, type Tables, viewMismatches } from "../test/_support/truth";
import { type FaultProxy, startFaultProxy } from "./proxy";

/** Ponder's finality depth on the local chain: reorgs stay well inside it. */
const FINALITY = PONDER_FINALITY_BLOCKS;
const MAX_REORG_DEPTH = 8;

export type ChaosOptions = {
  scenarios: number;
  seed: number;
  database: Database;
  log?: (line: string) => void;
};

export type ChaosResult = {
  database: Database;
  seed: number;
  scenarios: number;
  reorgs: number;
  maxDepth: number;
  crashes: number;
  faults: number;
  divergences: number;
  /** The first divergence, with the differing rows. */
  divergence?: string;
  seconds: number;
};

/** The summary line the harness promises. */
export function summaryLine(result: ChaosResult): string {
  return (
    `scenarios ${result.scenarios}, reorgs ${result.reorgs} (max depth ${result.maxDepth}), ` +
    `crashes ${result.crashes}, rpc faults ${result.faults}, divergences ${result.divergences}`
  );
}

/** The first differing row of each table, for a divergence report. */
export function diffTables(expected: Tables, indexed: Tables): string {
  const lines: string[] = [];
  for (const table of Object.keys(expected) as (keyof Tables)[]) {
    const a = expected[table] as unknown[];
    const b = indexed[table] as unknown[];
    const length = Math.max(a.length, b.length);
    for (let i = 0; i < length; i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
        lines.push(`${table} (${a.length} expected, ${b.length} indexed), first difference at row ${i}:`);
        lines.push(`  chain:   ${JSON.stringify(a[i] ?? null)}`);
        lines.push(`  indexed: ${JSON.stringify(b[i] ?? null)}`);
        break;
      }
    }
  }
  return lines.join("\n");
}

class Divergence extends JengaError {
  override name = "Divergence";
}

type ScenarioKind = "reorg" | "revert" | "crash" | "faults";
type Scenario = { n: number; forced: ScenarioKind; kinds: Set<ScenarioKind>; describe: string[] };

/** Which faults scenario `n` injects. Every kind appears in the first four scenarios; later
 * ones mix at random. (The order of the draws is part of what a seed reproduces.) */
function planScenario(n: number, random: Random): Scenario {
  const forced = (["reorg", "crash", "revert", "faults"] as const)[n % 4]!;
  const scenario: Scenario = { n, forced, kinds: new Set([forced]), describe: [] };
  if (random.chance(0.5)) scenario.kinds.add("faults");
  // One reorg style per scenario: anvil_reorg drops anvil's snapshots past its fork point.
  if (random.chance(0.2) && !scenario.kinds.has("reorg") && !scenario.kinds.has("revert")) {
    scenario.kinds.add(random.pick(["reorg", "revert"] as const));
  }
  if (n >= 4 && random.chance(0.15)) scenario.kinds.add("crash");
  return scenario;
}

/** One run of the harness on one database: the chain, the fault proxy and the indexer (a
 * restart replaces it), with the counts it reports. */
class ChaosRun {
  readonly result: ChaosResult;
  /** Every indexer process of the run (restarts included), for the full logs of a divergence. */
  readonly runs: Indexer[] = [];
  private proxy: FaultProxy | undefined;
  private indexer: Indexer | undefined;
  private fresh: Indexer | undefined;
  private storage: IndexerStorage | undefined;
  private actions!: Actions;
  private address!: Address;
  private startBlock!: number;

  constructor(
    private readonly chain: Chain,
    private readonly options: Required<ChaosOptions>,
    private readonly random: Random,
  ) {
    this.result = { database: options.database, seed: options.seed, scenarios: 0, reorgs: 0, maxDepth: 0, crashes: 0, faults: 0, divergences: 0, seconds: 0 };
  }

  private get label() {
    return `[${this.options.database}]`;
  }

  /** Deploys, writes history older than the finality window (so the first start backfills it),
   * then starts the indexer behind the fault proxy. */
  async start(): Promise<void> {
    const { chain, options } = this;
    const deployment = await deploy(chain);
    this.address = deployment.address;
    this.startBlock = deployment.startBlock;
    this.actions = new Actions({ chain, address: this.address, random: this.random });
    for (let i = 0; i < 3; i++) await this.actions.createChama();
    for (let i = 0; i < 4; i++) await this.actions.denseBlock();
    await chain.testClient.mine({ blocks: FINALITY + 5 });
    options.log(`${this.label} history: ${this.actions.takeSummary()}, then ${FINALITY + 5} empty blocks`);

    this.proxy = await startFaultProxy({ target: chain.rpcUrl, random: createRandom(options.seed ^ 0x9e3779b9) });
    this.indexer = await startIndexer({ chain, address: this.address, startBlock: this.startBlock, database: options.database, rpcUrl: this.proxy.url });
    this.storage = this.indexer.storage;
    this.runs.push(this.indexer);
  }

  /** Restarts the indexer on the same storage; a restart that cannot reach the RPC through the
   * faults is retried, as a process manager would. */
  private async restart(): Promise<Indexer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const next = await startIndexer({
          chain: this.chain,
          address: this.address,
          startBlock: this.startBlock,
          database: this.options.database,
          rpcUrl: this.proxy!.url,
          storage: this.storage,
        });
        this.runs.push(next);
        return next;
      } catch (error) {
        if (attempt >= 3 || !String(error).includes("Cannot reach the JSON-RPC")) throw error;
        this.options.log(`  restart ${attempt} could not reach the RPC through the faults; retrying`);
      }
    }
  }

  private faultCount(): number {
    return this.proxy ? Object.values(this.proxy.counts()).reduce((s, c) => s + c, 0) : 0;
  }

  /** Waits for a quiet, converged index and checks the invariant at the head. */
  private async check(label: string): Promise<void> {
    const { chain, address, startBlock } = this;
    const indexer = this.indexer!;
    this.proxy!.setFaultRate(0);
    let last: { expected: Tables; indexed: Tables; head: bigint } | undefined;
    try {
      await waitFor({
        what: `the index to converge after ${label}`,
        timeoutMs: 120_000,
        intervalMs: 250,
        check: async () => {
          const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
          const indexed = await indexer.indexedBlock();
          if (indexed === undefined || indexed < head) return undefined;
          const [expected, tables] = await Promise.all([
            expectedTables({ chain, address, fromBlock: BigInt(startBlock), toBlock: head }),
            indexedTables(indexer),
          ]);
          last = { expected, indexed: tables, head };
          return JSON.stringify(expected) === JSON.stringify(tables) ? true : undefined;
        },
      });
    } catch (error) {
      const detail = last ? diffTables(last.expected, last.indexed) : String(error);
      throw new Divergence(`${label}: the index did not converge to the chain.\n${detail}\n${indexer.logs().slice(-2_000)}`);
    }
    const mismatches = await viewMismatches({ chain, address, blockNumber: last!.head, tables: last!.indexed });
    if (mismatches.length > 0) throw new Divergence(`${label}: derived rows differ from the contract's views:\n${mismatches.join("\n")}`);
  }

  /** SIGKILL at a random point while the indexer is busy with fresh blocks, sometimes with the
   * chain running past the finality window while it is down and a second crash during the
   * catch-up; the restart must resume from its checkpoint. */
  private async crash(scenario: Scenario): Promise<void> {
    const { random, actions } = this;
    const killAfter = random.between(0, 1_500);
    const workload = actions.run(random.between(3, 8));
    await new Promise((resolve) => setTimeout(resolve, killAfter));
    const before = await this.indexer!.indexedBlock().catch(() => undefined);
    await this.indexer!.kill();
    await workload;
    this.result.crashes += 1;
    scenario.describe.push(`crash after ${killAfter} ms`);
    if (random.chance(0.5)) {
      await this.chain.testClient.mine({ blocks: FINALITY + random.between(1, 10) });
      await actions.run(random.between(1, 4));
      scenario.describe.push("chain ran on while down");
    }
    this.indexer = await this.restart();
    if (random.chance(0.4)) {
      const again = random.between(200, 2_500);
      await new Promise((resolve) => setTimeout(resolve, again));
      await this.indexer.kill();
      this.result.crashes += 1;
      scenario.describe.push(`crash again ${again} ms into catch-up`);
      this.indexer = await this.restart();
    }
    if (before !== undefined && !this.indexer.logs().includes("Detected crash recovery")) {
      throw new Divergence(`scenario ${scenario.n + 1}: the restart started over instead of resuming from its checkpoint.\n${this.indexer.logs().slice(-2_000)}`);
    }
  }

  /** anvil_reorg up to MAX_REORG_DEPTH deep, with a few replacement transactions; half the time
   * the indexer has the doomed blocks, half the time it is still fetching them. */
  private async reorg(scenario: Scenario): Promise<void> {
    const { chain, random } = this;
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const depth = Math.min(random.between(1, MAX_REORG_DEPTH), Number(head) - this.startBlock - 1);
    if (random.chance(0.5)) await this.indexer!.waitForBlock(head, 120_000);
    const replacements = await this.actions.replacementTxs(random.between(0, 3));
    await chain.testClient.request({
      method: "anvil_reorg" as never,
      params: [depth, replacements.map((tx) => [tx, random.int(depth)])] as never,
    });
    this.countReorg(depth);
    scenario.describe.push(`anvil_reorg depth ${depth} with ${replacements.length} replacement txs`);
  }

  /** Reverts to the scenario's snapshot and builds a longer canonical chain with different
   * transactions (when the depth stays well inside the finality window). */
  private async revert(scenario: Scenario, snapshot: { id: Hex; head: bigint }): Promise<void> {
    const { chain, random } = this;
    const head = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    const depth = Number(head - snapshot.head);
    if (depth <= 0 || depth >= FINALITY - 5) return;
    if (random.chance(0.5)) await this.indexer!.waitForBlock(head, 120_000);
    await chain.testClient.revert({ id: snapshot.id });
    await this.actions.run(random.between(1, 4));
    await chain.testClient.mine({ blocks: depth + random.between(1, 3) });
    this.countReorg(depth);
    scenario.describe.push(`snapshot/revert depth ${depth} + longer chain`);
  }

  private countReorg(depth: number): void {
    this.result.reorgs += 1;
    this.result.maxDepth = Math.max(this.result.maxDepth, depth);
  }

  /** Runs scenario `n` and checks the invariant after it. */
  async scenario(n: number): Promise<void> {
    const { chain, random } = this;
    const proxy = this.proxy!;
    const t0 = Date.now();
    const scenario = planScenario(n, random);
    const faultsBefore = this.faultCount();
    if (scenario.kinds.has("faults")) {
      const rate = scenario.forced === "faults" ? 0.2 : random.pick([0.05, 0.1, 0.2]);
      proxy.setFaultRate(rate);
      scenario.describe.push(`faults ${rate * 100}%`);
    }
    const snapshot = scenario.kinds.has("revert")
      ? { id: await chain.testClient.snapshot(), head: 0n }
      : undefined;
    const snapshotHead = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    if (snapshot) snapshot.head = snapshotHead;

    if (scenario.kinds.has("crash")) await this.crash(scenario);
    else await this.actions.run(random.between(3, 8));
    if (scenario.kinds.has("reorg")) await this.reorg(scenario);
    if (snapshot) await this.revert(scenario, snapshot);

    // Every scenario leaves a few blocks past the last event, as a live chain would.
    await chain.testClient.mine({ blocks: random.between(1, 3) });
    if (scenario.forced === "faults") {
      // A faults scenario keeps them coming until the indexer has met a few.
      await waitFor({
        what: "the proxy to inject faults",
        timeoutMs: 60_000,
        check: () => (this.faultCount() >= faultsBefore + 3 ? true : undefined),
      });
    }
    await this.check(`scenario ${n + 1}`);
    this.result.scenarios += 1;
    const described = scenario.describe.length ? `; ${scenario.describe.join("; ")}` : "";
    this.options.log(
      `${this.label} scenario ${n + 1}/${this.options.scenarios}: ${this.actions.takeSummary()}${described} -> ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }

  /** Invariant 3: a fresh index of the same chain from scratch equals the long-running one. */
  async freshIndexEquals(): Promise<void> {
    this.proxy!.setFaultRate(0);
    this.fresh = await startIndexer({ chain: this.chain, address: this.address, startBlock: this.startBlock, database: this.options.database });
    await this.fresh.waitForBlock(undefined, 120_000);
    const [a, b] = await Promise.all([indexedTables(this.indexer!), indexedTables(this.fresh)]);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Divergence(`a fresh index differs from the long-running one:\n${diffTables(b, a)}`);
    }
    this.options.log(`${this.label} a fresh index of the same chain equals the long-running one`);
    await this.indexer!.stop();
    this.indexer = undefined;
    await removeStorage(this.storage!);
  }

  /** Records a divergence and writes the full logs of every indexer run to a file. */
  recordDivergence(error: Divergence): void {
    const { database, seed, log } = this.options;
    this.result.divergences += 1;
    this.result.divergence = error.message;
    log(`${this.label} DIVERGENCE ${error.message}`);
    const file = join(tmpdir(), `jenga-chaos-${database}-seed${seed}-${Date.now()}.log`);
    writeFileSync(file, this.runs.map((run, i) => `===== indexer run ${i + 1} of ${this.runs.length} =====\n${run.logs()}`).join("\n"));
    log(`${this.label} the full logs of all ${this.runs.length} indexer runs: ${file}`);
  }

  async stop(): Promise<void> {
    this.result.faults = this.faultCount();
    await this.fresh?.stop();
    await this.indexer?.stop();
    await this.proxy?.stop();
  }
}

/** Runs the harness on one database and returns its counts. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const chain = await startChain();
  const run = new ChaosRun(chain, { ...options, log: options.log ?? ((line: string) => console.log(line)) }, createRandom(options.seed));
  try {
    await run.start();
    for (let n = 0; n < options.scenarios; n++) await run.scenario(n);
    await run.freshIndexEquals();
  } catch (error) {
    if (!(error instanceof Divergence)) throw error;
    run.recordDivergence(error);
  } finally {
    await run.stop();
    await chain.stop();
    run.result.seconds = Math.round((Date.now() - started) / 100) / 10;
  }
  return run.result;
}

/** The workload: random valid and reverting actions from several accounts, always reading the
 * chain for chama ids and admins (a reorg may have removed what an earlier step created). */
class Actions {
  private summary = { txs: 0, reverted: 0, dense: 0 };
  constructor(private readonly ctx: { chain: Chain; address: Address; random: Random }) {}

  takeSummary(): string {
    const { txs, reverted, dense } = this.summary;
    this.summary = { txs: 0, reverted: 0, dense: 0 };
    return `${txs} txs (${reverted} reverted, ${dense} dense blocks)`;
  }

  private as(index: number) {
    return chamaAs({ chain: this.ctx.chain, address: this.ctx.address, account: accounts[index]! });
  }

  private async chamaCount(): Promise<bigint> {
    return this.ctx.chain.publicClient.readContract({ address: this.ctx.address, abi: ChamaAbi, functionName: "chamaCount" });
  }

  async createChama() {
    const { random } = this.ctx;
    const minimum = random.pick([0n, 1_000n * SAT, 5_000n * SAT]);
    await this.as(random.int(accounts.length)).createChama(`Chama ${random.int(1_000_000)}`, minimum);
    this.summary.txs += 1;
  }

  async contribute() {
    const { random } = this.ctx;
    const count = await this.chamaCount();
    if (count === 0n) return this.createChama();
    const id = BigInt(random.between(1, Number(count)));
    const [, , minimum] = await this.ctx.chain.publicClient.readContract({ address: this.ctx.address, abi: ChamaAbi, functionName: "getChama", args: [id] });
    const value = (minimum > 0n ? minimum : 1_000n * SAT) + BigInt(random.int(1_000_000)) * 1_000_000_000n;
    await this.as(random.between(1, accounts.length - 1)).contribute(id, value);
    this.summary.txs += 1;
  }

  /** Contributions from several accounts mined into one block. */
  async denseBlock() {
    const { random, chain } = this.ctx;
    const count = await this.chamaCount();
    if (count === 0n) return this.createChama();
    const senders = [...accounts.keys()].filter(() => random.chance(0.7)).slice(0, 9);
    await chain.testClient.setAutomine(false);
    const hashes: Hash[] = [];
    try {
      for (const i of senders) {
        const id = BigInt(random.between(1, Number(count)));
        hashes.push(await this.as(i).contributeNoWait(id, 10_000n * SAT + BigInt(i)));
      }
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await Promise.all(hashes.map((hash) => chain.publicClient.waitForTransactionReceipt({ hash })));
    this.summary.txs += hashes.length;
    this.summary.dense += 1;
  }

  async payout() {
    const { random, chain, address } = this.ctx;
    const count = await this.chamaCount();
    if (count === 0n) return this.createChama();
    const id = BigInt(random.between(1, Number(count)));
    const [creator, , , contributed, paidOut] = await chain.publicClient.readContract({ address, abi: ChamaAbi, functionName: "getChama", args: [id] });
    const balance = contributed - paidOut;
    if (balance === 0n) return this.contribute();
    const admin = accounts.findIndex((a) => a.address === getAddress(creator));
    const amount = random.chance(0.3) ? balance : balance / BigInt(random.between(2, 5)) || balance;
    await this.as(admin).payout(id, accounts[random.int(accounts.length)]!.address, amount);
    this.summary.txs += 1;
  }

  /** A transaction that is mined but reverts (below the minimum, or an unknown chama). */
  async reverted() {
    const { random, chain, address } = this.ctx;
    const count = await this.chamaCount();
    const data = encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [count + 1n + BigInt(random.int(5))] });
    const { walletClient } = this.as(random.between(1, accounts.length - 1));
    const hash = await walletClient.sendTransaction({ to: address, data, value: 1n, gas: 200_000n });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "reverted") throw new Error(`expected ${hash} to revert`);
    this.summary.txs += 1;
    this.summary.reverted += 1;
  }

  /** Runs `n` random actions. */
  async run(n: number) {
    const { random } = this.ctx;
    for (let i = 0; i < n; i++) {
      const roll = random.float();
      if (roll < 0.1) await this.createChama();
      else if (roll < 0.6) await this.contribute();
      else if (roll < 0.75) await this.denseBlock();
      else if (roll < 0.9) await this.payout();
      else await this.reverted();
    }
  }

  /** Transactions for the new branch of an anvil_reorg (anvil signs for its dev accounts). */
  async replacementTxs(n: number) {
    const { random, address } = this.ctx;
    const count = await this.chamaCount();
    return Array.from({ length: count === 0n ? 0 : n }, () => ({
      from: accounts[random.between(1, accounts.length - 1)]!.address,
      to: address,
      value: numberToHex(10_000n * SAT + BigInt(random.int(1_000_000))),
      gas: numberToHex(200_000n),
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [BigInt(random.between(1, Number(count)))] }),
    }));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      scenarios: { type: "string", default: "50" },
      seed: { type: "string", default: "1" },
      database: { type: "string", default: "both" },
    },
  });
  const scenarios = Number(values.scenarios);
  const seed = Number(values.seed);
  if (!Number.isInteger(scenarios) || scenarios < 1) throw new Error(`--scenarios must be a positive integer, got "${values.scenarios}".`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}".`);
  if (!["both", "pglite", "postgres"].includes(values.database)) {
    throw new Error(`--database must be both, pglite or postgres, got "${values.database}".`);
  }
  const databases: Database[] = values.database === "both" ? ["pglite", "postgres"] : [values.database as Database];

  const cluster = databases.includes("postgres") && !process.env.JENGA_TEST_DATABASE_URL ? await startPostgres() : undefined;
  if (cluster) process.env.JENGA_TEST_DATABASE_URL = cluster.url;
  let failed = false;
  try {
    for (const database of databases) {
      console.log(`chaos: ${scenarios} scenarios on ${database}, seed ${seed}`);
      const result = await runChaos({ scenarios, seed, database });
      console.log(`${database}: ${summaryLine(result)} (${result.seconds} s)`);
      if (result.divergences > 0) failed = true;
    }
  } finally {
    cluster?.stop();
  }
  process.exitCode = failed ? 1 : 0;
}
