/**
 * The transaction ledger against a real anvil and the real indexer, on PGlite and PostgreSQL:
 * relay and registration, every refusal with nothing recorded, the rate limit, the push stream,
 * a transaction nobody announced, a dropped transaction rebroadcast, one reorged out and
 * rebroadcast, one replaced by nonce, a timeout, and a SIGKILL right after intake (and between
 * record and broadcast).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Account, type Address, type Hash, type Hex, encodeFunctionData, keccak256, parseTransaction, serializeTransaction } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFailed, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { SAT } from "../common/chain";
import type { LedgerChange, LedgerPage, LedgerTransaction, LedgerTransactionWithTransitions } from "../common/ledger-api";
import type { SyncHealth } from "../common/ops-api";
import { LedgerStore, openLedgerSql } from "../ledger/store";
import { projectRoot } from "../scripts/lib/chama";
import { waitFor } from "../scripts/lib/processes";
import { CHAIN_ID, type Chain, accounts, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { type Indexer, removeStorage, startIndexer } from "./_support/indexer";
import { rpc } from "./_support/json-rpc";
import { type SseMessage, openSse } from "./_support/sse";

const TIMEOUT_MS = 12_000;
const SENDER_LIMIT = 6;

type Answer<T> = { status: number; body: T };

/** POST /transactions with a JSON body. */
async function postTransaction<T = LedgerTransaction>(url: string, body: unknown): Promise<Answer<T & { error?: string; code?: string }>> {
  const response = await fetch(`${url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T & { error?: string; code?: string } };
}

/** GET a ledger path (`/transactions/0x…`, `/transactions?…`). */
async function getLedger<T>(url: string, pathAndQuery: string): Promise<Answer<T & { error?: string; code?: string }>> {
  const response = await fetch(`${url}${pathAndQuery}`);
  return { status: response.status, body: (await response.json()) as T & { error?: string; code?: string } };
}

/** Waits until the record of `hash` has `status`, and returns it with its transitions. */
async function waitForStatus(url: string, hash: Hash, status: LedgerTransaction["status"], timeoutMs = 30_000) {
  return waitFor({
    what: `transaction ${hash} to be ${status} in the ledger`,
    timeoutMs,
    intervalMs: 100,
    check: async () => {
      const { body } = await getLedger<LedgerTransactionWithTransitions>(url, `/transactions/${hash}`);
      return body.status === status ? body : undefined;
    },
  });
}

/** Signs a Chama call from `account` without sending it; `nonce` defaults to the next one. */
async function signCall(params: {
  chain: Chain;
  account: Account;
  to: Address;
  data: Hex;
  value?: bigint;
  nonce?: number;
  chainId?: number;
  /** Fees in wei (default 20 gwei, 1 gwei tip); a replacement must pay more. */
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
}): Promise<Hex> {
  const nonce = params.nonce ?? (await params.chain.publicClient.getTransactionCount({ address: params.account.address, blockTag: "pending" }));
  return params.account.signTransaction!({
    type: "eip1559",
    chainId: params.chainId ?? CHAIN_ID,
    to: params.to,
    data: params.data,
    value: params.value ?? 0n,
    nonce,
    gas: 300_000n,
    maxFeePerGas: params.maxFeePerGas ?? 20_000_000_000n,
    maxPriorityFeePerGas: params.maxPriorityFeePerGas ?? 1_000_000_000n,
  });
}

/** A new account with 1,000 ETH on the chain. */
async function fundedAccount(chain: Chain): Promise<Account> {
  const account = privateKeyToAccount(generatePrivateKey());
  await rpc(chain.rpcUrl, "anvil_setBalance", [account.address, `0x${(10n ** 21n).toString(16)}`]);
  return account;
}

/** The README's example record (the JSON block after `<!-- ledger-record-example -->`). */
function readmeRecord(): LedgerTransactionWithTransitions {
  const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
  const block = /<!-- ledger-record-example -->\s*```json\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no ledger-record-example block.");
  return JSON.parse(block[1]!) as LedgerTransactionWithTransitions;
}

/** The changes among a stream's messages. */
const changesOf = (messages: SseMessage[]) => messages.filter((m) => m.event === "transaction").map((m) => JSON.parse(m.data) as LedgerChange);

const contributeData = (chamaId: bigint) => encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [chamaId] });

describe.each(databases)("transaction ledger on %s", (database) => {
  let chain: Chain;
  let address: Address;
  let startBlock: number;
  let indexer: Indexer;
  let ledgerDirectory: string;
  let env: Record<string, string>;
  let createdChama: Hash;
  const ledgerSchema = `ledger_${process.pid}_${database}`;

  beforeAll(async () => {
    chain = await startChain();
    const deployment = await deploy(chain);
    address = deployment.address;
    startBlock = deployment.startBlock;
    createdChama = (await chamaAs({ chain, address, account: accounts[0]! }).createChama("Ledger", 0n)).transactionHash;
    ledgerDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-ledger-"));
    env = {
      LEDGER_PGLITE_DIRECTORY: ledgerDirectory,
      LEDGER_SCHEMA: ledgerSchema,
      LEDGER_TIMEOUT_MS: String(TIMEOUT_MS),
      LEDGER_POLL_INTERVAL_MS: "200",
      LEDGER_MAX_PER_SENDER_PER_MINUTE: String(SENDER_LIMIT),
    };
    indexer = await startIndexer({ chain, address, startBlock, database, env });
    await indexer.waitForBlock();
  }, 180_000);

  // A failure shows the indexer's last words.
  beforeEach(() => {
    onTestFailed(() => console.log(indexer?.logs().slice(-3000)));
  });

  afterAll(async () => {
    await indexer?.stop();
    if (indexer) await removeStorage(indexer.storage);
    rmSync(ledgerDirectory, { recursive: true, force: true });
    await chain?.stop();
  });

  test("a relayed contribution is pending at once, then reconciled, with every transition recorded; a repeat changes nothing", async () => {
    const raw = await signCall({ chain, account: accounts[1]!, to: address, data: contributeData(1n), value: 1_000n * SAT });
    const hash = keccak256(raw);
    const first = await postTransaction(indexer.url, { raw });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ hash, status: "pending", origin: "relay", kind: "contribution", chamaId: "1", amount: (1_000n * SAT).toString(), relayed: true, rebroadcasts: 0 });
    expect(first.body.from).toBe(accounts[1]!.address.toLowerCase());

    const done = await waitForStatus(indexer.url, hash, "reconciled");
    expect(done.transitions.map((t) => [t.from, t.to])).toEqual([
      [null, "draft"],
      ["draft", "pending"],
      ["pending", "confirmed"],
      ["confirmed", "reconciled"],
    ]);
    expect(done.blockNumber).not.toBeNull();

    // The README's example record has exactly the fields of a real one, and the same journey.
    const example = readmeRecord();
    expect(Object.keys(done).sort()).toEqual(Object.keys(example).sort());
    expect(Object.keys(done.transitions[0]!).sort()).toEqual(Object.keys(example.transitions[0]!).sort());
    expect(done.transitions.map((t) => t.cause.replace(/\d+/g, "N"))).toEqual(example.transitions.map((t) => t.cause.replace(/\d+/g, "N")));
    expect({ ...done, hash: "", from: "", nonce: 0, to: "", amount: "", blockNumber: "", blockHash: "", createdAt: "", updatedAt: "", sentAt: "", transitions: [] }).toEqual({
      ...example, hash: "", from: "", nonce: 0, to: "", amount: "", blockNumber: "", blockHash: "", createdAt: "", updatedAt: "", sentAt: "", transitions: [],
    });

    const again = await postTransaction(indexer.url, { raw });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ hash, status: "reconciled", rebroadcasts: 0 });
    const after = await getLedger<LedgerTransactionWithTransitions>(indexer.url, `/transactions/${hash}`);
    expect(after.body.transitions).toHaveLength(4);
  });

  test("a hash a wallet sent itself is registered, then reconciled; an unknown hash is a 404 and recorded nowhere", async () => {
    // Held in the node's pool, so the registration comes before anything is indexed.
    await chain.testClient.setAutomine(false);
    let hash: Hash;
    try {
      hash = await chain.publicClient.request({
        method: "eth_sendRawTransaction",
        params: [await signCall({ chain, account: accounts[2]!, to: address, data: contributeData(1n), value: 500n * SAT })],
      });
      const registered = await postTransaction(indexer.url, { hash });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({ hash, origin: "wallet", relayed: false, status: "pending" });
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await waitForStatus(indexer.url, hash, "reconciled");

    const unknown = `0x${"ab".repeat(32)}` as Hash;
    const answer = await postTransaction(indexer.url, { hash: unknown });
    expect(answer.status).toBe(404);
    expect(answer.body.error).toBe(`Transaction ${unknown} is not known to the node (neither mined nor in its pool): broadcast it first.`);
    expect((await getLedger(indexer.url, `/transactions/${unknown}`)).status).toBe(404);
  });

  test("refusals: another address, a bad signature, another chain, a node's refusal; each a 4xx with its reason, nothing pending", async () => {
    const sender = accounts[4]!;
    const toOther = await signCall({ chain, account: sender, to: accounts[5]!.address, data: contributeData(1n), value: SAT });
    const otherChain = await signCall({ chain, account: sender, to: address, data: contributeData(1n), value: SAT, chainId: 1 });
    const good = await signCall({ chain, account: sender, to: address, data: contributeData(1n), value: SAT });
    const badSignature = serializeTransaction(parseTransaction(good) as Parameters<typeof serializeTransaction>[0], { r: "0x0", s: "0x1", yParity: 0 });
    const notACall = await signCall({ chain, account: sender, to: address, data: "0x12345678", value: SAT });

    const cases: { raw: Hex; status: number; code: string; error: RegExp }[] = [
      { raw: toOther, status: 422, code: "WRONG_CONTRACT", error: new RegExp(`^The transaction is sent to ${accounts[5]!.address}, not to the Chama contract`, "i") },
      { raw: badSignature, status: 400, code: "BAD_SIGNATURE", error: /^The transaction's signature is not valid/ },
      { raw: otherChain, status: 422, code: "WRONG_CHAIN", error: /^The transaction is signed for chain 1, but this ledger follows chain 31337\.$/ },
      { raw: notACall, status: 422, code: "NOT_A_CHAMA_CALL", error: /^The transaction's data is not a call of createChama, contribute or payout\.$/ },
    ];
    for (const c of cases) {
      const answer = await postTransaction(indexer.url, { raw: c.raw });
      expect(answer.status, c.code).toBe(c.status);
      expect(answer.body.code).toBe(c.code);
      expect(answer.body.error).toMatch(c.error);
      expect((await getLedger(indexer.url, `/transactions/${keccak256(c.raw)}`)).status).toBe(404);
    }
    const fromSender = await getLedger<LedgerPage>(indexer.url, `/transactions?from=${sender.address}`);
    expect(fromSender.body.items).toEqual([]);

    // The node says no (an account with no coins): 422 with the node's reason; the record that
    // was written before the broadcast is failed ("rejected"), never left pending.
    const broke = privateKeyToAccount(generatePrivateKey());
    const unfunded = await signCall({ chain, account: broke, to: address, data: contributeData(1n), value: SAT, nonce: 0 });
    const refused = await postTransaction(indexer.url, { raw: unfunded });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe("NODE_REFUSED");
    expect(refused.body.error).toMatch(/^The node refused the transaction: .*insufficient funds/i);
    const record = await getLedger<LedgerTransactionWithTransitions>(indexer.url, `/transactions/${keccak256(unfunded)}`);
    expect(record.body).toMatchObject({ status: "failed", error: { reason: "rejected" } });
    expect(record.body.transitions.map((t) => [t.from, t.to])).toEqual([[null, "draft"], ["draft", "failed"]]);
    const pending = await getLedger<LedgerPage>(indexer.url, `/transactions?status=pending&from=${broke.address}`);
    expect(pending.body.items).toEqual([]);

    // Malformed requests.
    const bad = await postTransaction(indexer.url, { raw: good, hash: keccak256(good) });
    expect(bad).toMatchObject({ status: 400, body: { code: "BAD_BODY" } });
    const page = await getLedger(indexer.url, "/transactions?limit=5000");
    expect(page).toMatchObject({ status: 400, body: { error: 'limit must be between 1 and 200, got "5000".' } });
  });

  test(`past ${SENDER_LIMIT} requests a minute from one sender: 429 with Retry-After, and nothing recorded`, async () => {
    const account = await fundedAccount(chain);
    const raw = await signCall({ chain, account, to: address, data: contributeData(1n), value: SAT });
    const answers = [];
    for (let i = 0; i < SENDER_LIMIT; i++) answers.push((await postTransaction(indexer.url, { raw })).status);
    expect(answers).toEqual([201, ...Array<number>(SENDER_LIMIT - 1).fill(200)]);
    const next = await signCall({ chain, account, to: address, data: contributeData(1n), value: 2n * SAT });
    const response = await fetch(`${indexer.url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ raw: next }) });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("60");
    const body = (await response.json()) as { error: string; code: string };
    expect(body.code).toBe("RATE_LIMITED");
    expect(body.error).toMatch(new RegExp(`^Too many transactions from this sender: at most ${SENDER_LIMIT} a minute \\(LEDGER_MAX_PER_SENDER_PER_MINUTE\\)\\. Retry in \\d+ s\\.$`));
    expect((await getLedger(indexer.url, `/transactions/${keccak256(next)}`)).status).toBe(404);
    expect(await chain.publicClient.getTransaction({ hash: keccak256(next) }).catch(() => null)).toBeNull();
  });

  test("the push stream: every change as it happens, in order; a resume with Last-Event-ID replays what it missed", async () => {
    const account = await fundedAccount(chain);
    const url = `${indexer.url}/transactions/stream?from=${account.address}`;
    const stream = await openSse({ url });
    try {
      expect(stream.status).toBe(200);
      await stream.next({ what: "the stream to be ready", match: (m) => m.event === "ready" });
      const raw = await signCall({ chain, account, to: address, data: contributeData(1n), value: 7n * SAT });
      const hash = keccak256(raw);
      expect((await postTransaction(indexer.url, { raw })).status).toBe(201);
      await stream.next({ what: "the reconciled change", match: (m) => m.event === "transaction" && (JSON.parse(m.data) as LedgerChange).transition.to === "reconciled" });
      const changes = changesOf(stream.messages);
      expect(changes.map((c) => [c.transaction.hash, c.transition.from, c.transition.to])).toEqual([
        [hash, null, "draft"],
        [hash, "draft", "pending"],
        [hash, "pending", "confirmed"],
        [hash, "confirmed", "reconciled"],
      ]);
      const ids = changes.map((c) => BigInt(c.id));
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
      expect(changes.at(-1)!.transaction).toMatchObject({ status: "reconciled", amount: (7n * SAT).toString(), chamaId: "1" });

      const resumed = await openSse({ url, lastEventId: changes[0]!.id });
      try {
        await resumed.next({ what: "the resumed stream to be ready", match: (m) => m.event === "ready" });
        expect(changesOf(resumed.messages).map((c) => c.transition.to)).toEqual(["pending", "confirmed", "reconciled"]);
      } finally {
        resumed.close();
      }
      const otherChama = await openSse({ url: `${indexer.url}/transactions/stream?chamaId=999&after=0` });
      try {
        await otherChama.next({ what: "chama 999's stream to be ready", match: (m) => m.event === "ready" });
        expect(changesOf(otherChama.messages)).toEqual([]);
      } finally {
        otherChama.close();
      }
    } finally {
      stream.close();
    }
    const bad = await fetch(url, { headers: { "last-event-id": "not-an-id" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ code: "BAD_LAST_EVENT_ID", error: 'Last-Event-ID must be the id of a change (digits), got "not-an-id".' });
    expect((await fetch(`${indexer.url}/transactions/stream?status=pending`)).status).toBe(400);
  });

  test("a transaction nobody announced is recorded from its indexed event: origin chain, reconciled", async () => {
    const receipt = await chamaAs({ chain, address, account: accounts[2]! }).contribute(1n, 600n * SAT);
    const record = await waitForStatus(indexer.url, receipt.transactionHash, "reconciled");
    expect(record).toMatchObject({
      origin: "chain",
      relayed: false,
      kind: "contribution",
      chamaId: "1",
      amount: (600n * SAT).toString(),
      from: accounts[2]!.address.toLowerCase(),
      blockNumber: receipt.blockNumber.toString(),
      blockHash: receipt.blockHash,
    });
    expect(record.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([[null, "reconciled", `indexed in block ${receipt.blockNumber}; no one announced it`]]);
    // So is the chama created before the indexer ever ran.
    const created = await waitForStatus(indexer.url, createdChama, "reconciled");
    expect(created).toMatchObject({ origin: "chain", kind: "createChama", chamaId: "1", name: "Ledger" });
  });

  test("replaced by nonce: the first is replaced and linked to its replacement, which is reconciled; a fresh stream starts with open records", async () => {
    const account = await fundedAccount(chain);
    await chain.testClient.setAutomine(false);
    let first: Hash;
    let second: Hash;
    try {
      const a = await signCall({ chain, account, to: address, data: contributeData(1n), value: SAT, nonce: 0 });
      first = keccak256(a);
      expect((await postTransaction(indexer.url, { raw: a })).body.status).toBe("pending");
      const stream = await openSse({ url: `${indexer.url}/transactions/stream?from=${account.address}` });
      try {
        await stream.next({ what: "the stream to be ready", match: (m) => m.event === "ready" });
        expect(changesOf(stream.messages).map((c) => [c.transaction.hash, c.transaction.status])).toEqual([[first, "pending"]]);
      } finally {
        stream.close();
      }
      const b = await signCall({ chain, account, to: address, data: contributeData(1n), value: 2n * SAT, nonce: 0, maxFeePerGas: 40_000_000_000n, maxPriorityFeePerGas: 5_000_000_000n });
      second = keccak256(b);
      expect((await postTransaction(indexer.url, { raw: b })).body.status).toBe("pending");
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    const replaced = await waitForStatus(indexer.url, first, "replaced");
    expect(replaced).toMatchObject({ replacedBy: second, error: { reason: "replaced", message: `replaced by ${second}` } });
    expect(replaced.transitions.at(-1)).toMatchObject({ from: "pending", to: "replaced", cause: `nonce 0 of ${account.address.toLowerCase()} was used by ${second}` });
    await waitForStatus(indexer.url, second, "reconciled");
  });

  test("reorged out after it was reconciled: pending again, rebroadcast from the raw transaction, then mined and reconciled again", async () => {
    const account = await fundedAccount(chain);
    const snapshot = await chain.testClient.snapshot();
    const raw = await signCall({ chain, account, to: address, data: contributeData(1n), value: 9n * SAT });
    const hash = keccak256(raw);
    expect((await postTransaction(indexer.url, { raw })).status).toBe(201);
    const settled = await waitForStatus(indexer.url, hash, "reconciled");
    // A longer chain without it: the block it was mined in is gone.
    await chain.testClient.revert({ id: snapshot });
    await chain.testClient.mine({ blocks: 2 });
    const again = await waitFor({
      what: "the reorged transaction to be rebroadcast and reconciled again",
      timeoutMs: 30_000,
      intervalMs: 100,
      check: async () => {
        const { body } = await getLedger<LedgerTransactionWithTransitions>(indexer.url, `/transactions/${hash}`);
        return body.status === "reconciled" && body.rebroadcasts >= 1 ? body : undefined;
      },
    });
    const causes = again.transitions.map((t) => [t.from, t.to, t.cause]);
    expect(causes).toContainEqual(["reconciled", "pending", `a reorg took block ${settled.blockNumber}`]);
    expect(causes).toContainEqual(["pending", "pending", "rebroadcast: the node did not know it"]);
    expect(again.blockHash).not.toBe(settled.blockHash);
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    expect(again.blockHash).toBe(receipt.blockHash);
  });

  test("dropped from the node's pool: rebroadcast from the raw transaction, then mined and reconciled", async () => {
    await chain.testClient.setAutomine(false);
    let hash: Hash;
    try {
      const raw = await signCall({ chain, account: accounts[3]!, to: address, data: contributeData(1n), value: 2_000n * SAT });
      hash = keccak256(raw);
      const answer = await postTransaction(indexer.url, { raw });
      expect(answer.body.status).toBe("pending");
      await rpc(chain.rpcUrl, "anvil_dropTransaction", [hash]);
      const rebroadcast = await waitFor({
        what: "the follower to rebroadcast the dropped transaction",
        timeoutMs: 10_000,
        check: async () => {
          const { body } = await getLedger<LedgerTransactionWithTransitions>(indexer.url, `/transactions/${hash}`);
          return body.rebroadcasts >= 1 ? body : undefined;
        },
      });
      expect(rebroadcast.status).toBe("pending");
      expect(rebroadcast.transitions.some((t) => t.from === "pending" && t.to === "pending" && t.cause === "rebroadcast: the node did not know it")).toBe(true);
      await chain.testClient.mine({ blocks: 1 });
    } finally {
      await chain.testClient.setAutomine(true);
    }
    await waitForStatus(indexer.url, hash, "reconciled");
    const health = (await (await fetch(`${indexer.url}/sync-health`)).json()) as SyncHealth;
    expect(health.ledger).toMatchObject({ pending: 0, drafts: 0, lastError: null });
    expect(health.ledger && "rebroadcasts" in health.ledger ? health.ledger.rebroadcasts : 0).toBeGreaterThanOrEqual(1);
  });

  test("a transaction that never lands fails as timed out after LEDGER_TIMEOUT_MS, and /sync-health counts it", async () => {
    // A nonce gap: the node holds it, nothing mines it.
    const account = accounts[7]!;
    const next = await chain.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
    const raw = await signCall({ chain, account, to: address, data: contributeData(1n), value: SAT, nonce: next + 1 });
    const hash = keccak256(raw);
    const started = Date.now();
    expect((await postTransaction(indexer.url, { raw })).body.status).toBe("pending");
    const health = (await (await fetch(`${indexer.url}/sync-health`)).json()) as SyncHealth;
    expect(health.ledger).toMatchObject({ pending: 1 });
    const failed = await waitForStatus(indexer.url, hash, "failed", TIMEOUT_MS + 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 500);
    expect(failed.error).toEqual({ reason: "timeout", message: `timed out: no receipt within ${TIMEOUT_MS / 1000} s` });
    const after = (await (await fetch(`${indexer.url}/sync-health`)).json()) as SyncHealth;
    expect(after.ledger).toMatchObject({ pending: 0, failedLast24h: 2 });
  }, 60_000);

  test("pages: newest first, bounded, with a cursor", async () => {
    const first = await getLedger<LedgerPage>(indexer.url, "/transactions?chamaId=1&limit=2");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).not.toBeNull();
    const second = await getLedger<LedgerPage>(indexer.url, `/transactions?chamaId=1&limit=2&after=${first.body.next}`);
    const hashes = [...first.body.items, ...second.body.items].map((i) => i.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    const reconciled = await getLedger<LedgerPage>(indexer.url, "/transactions?status=reconciled");
    expect(reconciled.body.items.length).toBeGreaterThanOrEqual(3);
    expect(reconciled.body.items.every((i) => i.status === "reconciled")).toBe(true);
  });

  test("SIGKILL right after intake, and a record left between record and broadcast: both settled after the restart", async () => {
    const raw = await signCall({ chain, account: accounts[6]!, to: address, data: contributeData(1n), value: 3_000n * SAT });
    const hash = keccak256(raw);
    expect((await postTransaction(indexer.url, { raw })).status).toBe(201);
    await indexer.kill();

    // What a crash between writing the record and broadcasting leaves: a draft holding the raw
    // transaction, which the node has never seen.
    const lateRaw = await signCall({ chain, account: accounts[8]!, to: address, data: contributeData(1n), value: 4_000n * SAT });
    const lateHash = keccak256(lateRaw);
    const sql = await openLedgerSql({ databaseUrl: indexer.storage.databaseUrl, schema: ledgerSchema, pgliteDirectory: ledgerDirectory });
    try {
      const store = new LedgerStore({ sql, schema: ledgerSchema });
      await store.insert({
        record: { hash: lateHash, chainId: CHAIN_ID, from: accounts[8]!.address, nonce: parseTransaction(lateRaw).nonce!, to: address, kind: "contribution", chamaId: 1n, amount: 4_000n * SAT, recipient: null, name: null, raw: lateRaw, status: "draft", origin: "relay" },
        cause: "relayed: recorded before broadcast",
      });
    } finally {
      await sql.close();
    }
    expect(await chain.publicClient.getTransaction({ hash: lateHash }).catch(() => null)).toBeNull();

    indexer = await startIndexer({ chain, address, startBlock, database, env, storage: indexer.storage });
    await waitForStatus(indexer.url, hash, "reconciled", 60_000);
    const late = await waitForStatus(indexer.url, lateHash, "reconciled", 60_000);
    expect(late.transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      [null, "draft", "relayed: recorded before broadcast"],
      ["draft", "pending", "broadcast (recorded but not broadcast (recovered))"],
      ["pending", "confirmed", expect.stringMatching(/^mined in block \d+$/)],
      ["confirmed", "reconciled", "indexed"],
    ]);
  }, 180_000);
});
