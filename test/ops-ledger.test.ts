/**
 * The operator side of the transaction ledger against a real anvil and the real indexer, on
 * PGlite and PostgreSQL, with alerts posted to a real webhook on 127.0.0.1:
 *
 * - POST /reconcile checks the ledger (confirmed and reconciled records against their receipts
 *   and the index) and reports a record the chain disagrees with as a `ledger` discrepancy;
 *   `npm run reconcile` does too (on PostgreSQL reading LEDGER_SCHEMA itself, on PGlite through
 *   the API that holds the ledger) and exits 1;
 * - the discrepancy and the status change it causes are each alerted once, the first deliveries
 *   failing and retried; a repaired ledger gives the resolved alerts (PostgreSQL: PGlite's
 *   ledger belongs to the API process, nothing else writes it while the API runs);
 * - a transaction that times out is alerted once, by hash;
 * - the ledger's gauges and the alert counters on /sync-health/metrics;
 * - with a replica on one PostgreSQL, only the follower's process posts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type Hash, type Hex, encodeFunctionData, keccak256, toHex } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFailed, test } from "vitest";
import { ChamaAbi } from "../abis/ChamaAbi";
import { SAT } from "../common/chain";
import type { LedgerTransactionWithTransitions } from "../common/ledger-api";
import type { AlertPayload, SyncHealth } from "../common/ops-api";
import { LedgerStore, openLedgerSql } from "../ledger/store";
import { projectRoot } from "../scripts/lib/chama";
import { waitFor } from "../scripts/lib/processes";
import { CHAIN_ID, type Chain, accounts, chamaAs, databases, deploy, startChain } from "./_support/chain";
import { ADMIN_TOKEN, type Indexer, type IndexerStorage, createStorage, postReconcile, removeStorage, startIndexer, syncHealth } from "./_support/indexer";
import { runScript, scriptEnv, startReplica } from "./_support/scripts";
import { type Webhook, startWebhook } from "./_support/webhook";

const TIMEOUT_MS = 4_000;
/** ALERT_DEBOUNCE_MS of these tests. */
const DEBOUNCE_MS = 1_000;

/** The alert example in the README's operator section. */
function readmeAlertExample(): AlertPayload {
  const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
  const block = /<!-- alert-example -->\s*```json\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error("README.md has no <!-- alert-example --> JSON block");
  return JSON.parse(block[1]!) as AlertPayload;
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

describe.each(databases)("ledger checks, alerts and metrics on %s", (database) => {
  let chain: Chain;
  let address: Hex;
  let startBlock: number;
  let storage: IndexerStorage;
  let indexer: Indexer;
  let webhook: Webhook;
  let env: Record<string, string>;
  const ledgerSchema = `ledger_ops_${process.pid}_${database}`;
  let registered: Hash;
  /** Records the first reconciliation checked (the contribution, and the chama's creation the
   * ledger took from the index). */
  let checkedAtFirst = 0;
  const fake = keccak256(toHex(`not a transaction ${database}`));

  /** Waits until `url`'s monitor has sampled for longer than the debounce from now and has no
   * alert waiting for delivery: any alert due by then has been raised and delivered. */
  const samplesPastDebounce = (url: string) => {
    const since = Date.now();
    return waitFor({
      what: `${url}'s health samples past the alert debounce, with nothing queued`,
      timeoutMs: 15_000,
      intervalMs: 100,
      check: async () => {
        const h = await getJson<SyncHealth>(`${url}/sync-health`);
        return Date.parse(h.checkedAt) - since > DEBOUNCE_MS + 200 && h.alerting?.queued === 0 ? true : undefined;
      },
    });
  };
  const accepted = (kind?: AlertPayload["kind"]) => webhook.accepted().filter((a) => !kind || a.kind === kind);
  const waitForAlert = (what: string, match: (a: AlertPayload) => boolean, timeoutMs = 30_000) =>
    waitFor({ what, timeoutMs, intervalMs: 100, check: async () => webhook.accepted().find(match) });

  /** Runs `fn` on the ledger's database: on PostgreSQL beside the running API, on PGlite with the
   * API stopped (its directory belongs to one process) and started again after. */
  async function withLedger(fn: (store: LedgerStore) => Promise<void>) {
    if (database === "pglite") await indexer.kill();
    const sql = await openLedgerSql({ databaseUrl: storage.databaseUrl, schema: ledgerSchema, pgliteDirectory: storage.ledgerDirectory });
    try {
      await fn(new LedgerStore({ sql, schema: ledgerSchema }));
    } finally {
      await sql.close();
    }
    if (database === "pglite") {
      indexer = await startIndexer({ chain, address, startBlock, database, env, storage });
      await indexer.waitForBlock();
    }
  }

  beforeAll(async () => {
    chain = await startChain();
    ({ address, startBlock } = await deploy(chain));
    await chamaAs({ chain, address, account: accounts[0]! }).createChama("Alerts", 0n);
    webhook = await startWebhook();
    storage = createStorage({ database, chain });
    env = {
      ADMIN_TOKEN,
      LEDGER_SCHEMA: ledgerSchema,
      LEDGER_TIMEOUT_MS: String(TIMEOUT_MS),
      LEDGER_POLL_INTERVAL_MS: "200",
      HEALTH_SAMPLE_INTERVAL_MS: "200",
      // The tests mine 35 blocks at once: a loaded machine may take more than the debounce to
      // index them, and that lag is not what these tests alert on.
      HEALTH_MAX_LAG_BLOCKS: "100",
      ALERT_WEBHOOK_URL: webhook.url,
      ALERT_DEBOUNCE_MS: String(DEBOUNCE_MS),
      ALERT_RETRY_BASE_MS: "50",
      ALERT_RETRY_MAX_MS: "200",
    };
    indexer = await startIndexer({ chain, address, startBlock, database, env, storage });
    await indexer.waitForBlock();
  }, 180_000);

  beforeEach(() => {
    onTestFailed(() => console.log(indexer?.logs().slice(-3000), JSON.stringify(webhook?.deliveries.map((d) => [d.status, d.body.kind, d.body.message]), null, 1)));
  });

  afterAll(async () => {
    await indexer?.stop();
    if (storage) await removeStorage(storage);
    await webhook?.stop();
    await chain?.stop();
  });

  test("a reconciled record is checked by POST /reconcile; the ledger's gauges and the alert counters are on /sync-health/metrics", async () => {
    const receipt = await chamaAs({ chain, address, account: accounts[1]! }).contribute(1n, 1_000n * SAT);
    registered = receipt.transactionHash;
    const answer = await fetch(`${indexer.url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hash: registered }) });
    expect(answer.status).toBe(201);
    await waitFor({
      what: "the registered contribution to be reconciled",
      timeoutMs: 30_000,
      intervalMs: 100,
      check: async () => ((await getJson<LedgerTransactionWithTransitions>(`${indexer.url}/transactions/${registered}`)).status === "reconciled" ? true : undefined),
    });
    await indexer.waitForBlock();
    const { status, body } = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(status).toBe(200);
    // Their logs were read at their block hashes: no receipt needed.
    expect(body).toMatchObject({ ok: true, discrepancyCount: 0, ledger: { receipts: 0 } });
    const reconciled = await getJson<{ items: unknown[] }>(`${indexer.url}/transactions?status=reconciled`);
    checkedAtFirst = "checked" in body.ledger ? body.ledger.checked : -1;
    expect(checkedAtFirst).toBe(reconciled.items.length);
    expect(checkedAtFirst).toBeGreaterThanOrEqual(1);

    const health = (await syncHealth(indexer.url)).body;
    expect(health.alerting).toMatchObject({ posting: true, webhook: true });
    expect(health.lastReconciliation).toMatchObject({ ledger: { checked: checkedAtFirst, receipts: 0 } });
    const metrics = await (await fetch(`${indexer.url}/sync-health/metrics`)).text();
    for (const line of [
      "jenga_ledger_up 1",
      "jenga_ledger_pending 0",
      "jenga_ledger_drafts 0",
      "jenga_ledger_failed_last_24h 0",
      "jenga_ledger_oldest_pending_seconds 0",
      "jenga_ledger_rebroadcasts 0",
      "jenga_ledger_follower 1",
      "jenga_alerts_posting 1",
      'jenga_alert_deliveries_total{result="failed"} 0',
      "jenga_alert_queue_length 0",
    ]) {
      expect(metrics).toContain(`${line}\n`);
    }
    expect(metrics).toContain("# TYPE jenga_alerts_raised_total counter\n");
    expect(metrics).toMatch(/^jenga_alerts_raised_total\{kind="discrepancy"\} 0$/m);
  });

  /** Makes the ledger disagree with the chain below the follower's watch window (30 blocks):
   * the registered record at a block hash the chain never had, and a reconciled record of a
   * transaction that does not exist (`made-up`). */
  async function tamper(madeUp: Hash) {
    await chain.testClient.mine({ blocks: 35 });
    await withLedger(async (store) => {
      const real = (await store.get(registered))!;
      await store.transition({ hash: registered, from: "reconciled", to: "reconciled", cause: "test: a block hash the chain never had", patch: { blockHash: wrongHash } });
      await store.insert({
        record: { hash: madeUp, chainId: CHAIN_ID, from: accounts[2]!.address, nonce: 0, to: address, kind: "contribution", chamaId: 1n, amount: SAT, recipient: null, name: null, raw: null, status: "reconciled", origin: "wallet" },
        cause: "test: a record of a transaction that does not exist",
      });
      await store.transition({ hash: madeUp, from: "reconciled", to: "reconciled", cause: "test", patch: { blockNumber: real.blockNumber, blockHash: real.blockHash } });
    });
    await indexer.waitForBlock();
  }

  /** Waits until the follower has taken both records back to what the chain says: the
   * registered one reconciled at its real block hash, the made-up one no longer reconciled. */
  async function repaired(madeUp: Hash) {
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: registered });
    const [real, gone] = await waitFor({
      what: "the follower to take the disputed records back",
      timeoutMs: 30_000,
      intervalMs: 100,
      check: async () => {
        const r = await getJson<LedgerTransactionWithTransitions>(`${indexer.url}/transactions/${registered}`);
        const m = await getJson<LedgerTransactionWithTransitions>(`${indexer.url}/transactions/${madeUp}`);
        return r.status === "reconciled" && r.blockHash?.toLowerCase() === receipt.blockHash.toLowerCase() && m.status !== "reconciled" ? ([r, m] as const) : undefined;
      },
    });
    // Every step is in the audit trail, with its cause.
    expect(real.transitions.at(-1)).toMatchObject({ from: "reconciled", to: "reconciled", cause: `mined again in block ${receipt.blockNumber} after a reorg` });
    expect(gone.transitions.some((t) => t.from === "reconciled" && t.to === "pending")).toBe(true);
  }

  const wrongHash = `0x${"0f".repeat(32)}` as Hash;

  test("a ledger record the chain disagrees with: a ledger discrepancy from POST /reconcile, alerted once past failed deliveries, and taken back by the follower", async () => {
    await tamper(fake);
    webhook.fail(2);
    const startedAt = Date.now();
    const { body } = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(body).toMatchObject({ ok: false, discrepancyCount: 2, ledger: { checked: checkedAtFirst + 1, receipts: 2 } });
    const ledgerDiscrepancies = body.discrepancies.filter((d) => d.table === "ledger");
    expect(ledgerDiscrepancies).toEqual([
      {
        kind: "value_mismatch",
        table: "ledger",
        key: registered,
        fields: ["blockHash"],
        db: expect.objectContaining({ status: "reconciled", blockHash: wrongHash, indexed: "yes" }),
        chain: expect.objectContaining({ receipt: "success", indexed: "yes" }),
      },
      { kind: "extra_in_db", table: "ledger", key: fake, db: expect.objectContaining({ status: "reconciled" }), chain: { receipt: null, indexed: "no" } },
    ]);

    const alert = await waitForAlert("the discrepancy alert", (a) => a.kind === "discrepancy");
    expect(alert).toMatchObject({
      resolved: false,
      message: `The reconciliation at block ${body.block} found 2 differences from the chain (2 ledger).`,
      details: { block: body.block, discrepancyCount: 2, before: 0, byTable: { ledger: 2 } },
    });
    // The first two deliveries were refused: the same alert three times, accepted once.
    expect(webhook.deliveries.filter((d) => d.body.id === alert.id).map((d) => d.status)).toEqual([503, 503, 204]);
    // The README's example is this alert's shape.
    const example = readmeAlertExample();
    expect(Object.keys(alert).sort()).toEqual(Object.keys(example).sort());
    expect(Object.keys(alert.details).sort()).toEqual(Object.keys(example.details).sort());
    expect(example).toMatchObject({ kind: "discrepancy", resolved: false, text: `[jenga] ${example.message}` });

    // diverged, held for ALERT_DEBOUNCE_MS: one status alert.
    const diverged = await waitForAlert("the diverged status alert", (a) => a.kind === "status" && a.details.to === "diverged");
    expect(Date.parse(diverged.at) - startedAt).toBeGreaterThanOrEqual(DEBOUNCE_MS - 100);
    expect(diverged.message).toMatch(/^Sync status changed from \w+ to diverged: the last reconciliation \(block \d+\) found 2 differences from the chain\.$/);
    const health = (await syncHealth(indexer.url)).body;
    expect(health.alerts?.slice(0, 2).map((a) => [a.kind, a.delivery.state])).toEqual([
      ["status", "delivered"],
      ["discrepancy", "delivered"],
    ]);

    // The chain wins: the follower, asked by the reconciliation to look again below its window,
    // takes both back; the next reconciliation is clean and says so, once.
    await repaired(fake);
    const clean = await postReconcile(indexer.url, ADMIN_TOKEN);
    expect(clean.body).toMatchObject({ ok: true, discrepancyCount: 0, ledger: { checked: checkedAtFirst } });
    const resolved = await waitForAlert("the resolved discrepancy alert", (a) => a.kind === "discrepancy" && a.resolved);
    expect(resolved.message).toBe(`The reconciliation at block ${clean.body.block} found the index and the ledger equal to the chain again (2 differences before).`);
    await waitForAlert("the status back to ok", (a) => a.kind === "status" && a.resolved && a.details.from === "diverged");
    await postReconcile(indexer.url, ADMIN_TOKEN);
    await samplesPastDebounce(indexer.url);
    expect(accepted("discrepancy").map((a) => a.resolved)).toEqual([false, true]);
    expect(accepted("status").filter((a) => a.details.to === "diverged")).toHaveLength(1);
  }, 180_000);

  test("npm run reconcile names the ledger's differences and exits 1 (on PostgreSQL reading LEDGER_SCHEMA itself, on PGlite through the API)", async () => {
    const madeUp = keccak256(toHex(`another made-up transaction ${database}`));
    await tamper(madeUp);
    const cliEnv = { ...scriptEnv({ chain, address, startBlock, database }), LEDGER_SCHEMA: ledgerSchema };
    const cli = await runScript({ name: "reconcile", args: database === "postgres" ? ["--schema", indexer.schema] : ["--url", indexer.url], env: cliEnv });
    expect(cli.code, `${cli.stdout}\n${cli.stderr}`).toBe(1);
    expect(cli.stdout).toContain(`value_mismatch ledger ${registered}: blockHash: db ${wrongHash} chain `);
    expect(cli.stdout).toContain(`extra_in_db ledger ${madeUp}: `);
    expect(cli.stdout).toMatch(
      database === "postgres"
        ? new RegExp(`ledger: ${checkedAtFirst + 1} confirmed and reconciled records up to block \\d+ checked against their receipts and the index, 2 receipts fetched`)
        : /checked against their receipts and the index \(in the API at http:\/\/127\.0\.0\.1:\d+: it holds the ledger\), 2 receipts fetched/,
    );
    // The API's own reconciliation has the follower take them back (the CLI on PGlite was one).
    if (database === "postgres") await postReconcile(indexer.url, ADMIN_TOKEN);
    await repaired(madeUp);
  }, 180_000);

  if (database === "postgres")
    test("a replica on the same PostgreSQL stands by: it finds the differences but raises no alert and moves nothing", async () => {
      const replica = await startReplica({ schema: indexer.schema, env: { ...scriptEnv({ chain, address, startBlock, database }), ...env } });
      try {
        const standby = await waitFor({
          what: "the replica's /sync-health",
          timeoutMs: 30_000,
          check: async () => {
            const h = await getJson<SyncHealth>(`${replica.url}/sync-health`);
            return h.ledger && "follower" in h.ledger ? h : undefined;
          },
        });
        expect(standby.ledger).toMatchObject({ follower: "standby" });
        expect(standby.alerting).toMatchObject({ posting: false, raised: 0 });
        const madeUp = keccak256(toHex("a made-up transaction for the replica"));
        await tamper(madeUp);
        const before = accepted().length;
        const fromReplica = await postReconcile(replica.url, ADMIN_TOKEN);
        expect(fromReplica.body).toMatchObject({ ok: false, discrepancyCount: 2 });
        const metrics = await (await fetch(`${replica.url}/sync-health/metrics`)).text();
        expect(metrics).toContain("jenga_ledger_follower 0\n");
        expect(metrics).toContain("jenga_alerts_posting 0\n");
        await samplesPastDebounce(replica.url);
        expect((await getJson<SyncHealth>(`${replica.url}/sync-health`)).alerts).toEqual([]);
        expect(accepted()).toHaveLength(before);
        // Only the follower's process moves records: still as tampered.
        expect((await getJson<LedgerTransactionWithTransitions>(`${replica.url}/transactions/${madeUp}`)).status).toBe("reconciled");
        await postReconcile(indexer.url, ADMIN_TOKEN);
        await repaired(madeUp);
      } finally {
        await replica.stop();
      }
    }, 120_000);

  test("a transaction that times out is alerted once, by its hash", async () => {
    const account = accounts[7]!;
    const next = await chain.publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
    // A nonce gap: the node holds it, nothing mines it.
    const raw = await account.signTransaction!({
      type: "eip1559",
      chainId: CHAIN_ID,
      to: address,
      data: encodeFunctionData({ abi: ChamaAbi, functionName: "contribute", args: [1n] }),
      value: SAT,
      nonce: next + 1,
      gas: 300_000n,
      maxFeePerGas: 20_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    const hash = keccak256(raw);
    const answer = await fetch(`${indexer.url}/transactions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ raw }) });
    expect(answer.status).toBe(201);
    const mine = (a: AlertPayload) => a.kind === "stuck" && (a.details.hashes as string[]).includes(hash);
    const stuck = await waitForAlert("the stuck alert", mine, TIMEOUT_MS + 20_000);
    expect(stuck).toMatchObject({
      resolved: false,
      message: `1 ledger action timed out with no receipt after ${TIMEOUT_MS / 1000} s: contribution ${hash.slice(0, 10)}…${hash.slice(-4)} (chama 1).`,
      details: { count: 1, timeoutMs: TIMEOUT_MS, hashes: [hash], transactions: [expect.objectContaining({ hash, kind: "contribution", chamaId: "1", from: account.address.toLowerCase() })] },
    });
    await samplesPastDebounce(indexer.url);
    expect(webhook.accepted().filter(mine)).toHaveLength(1);
    const metrics = await (await fetch(`${indexer.url}/sync-health/metrics`)).text();
    // The made-up records the follower took back may have failed too: the gauge counts them all.
    const failed = await getJson<{ items: unknown[] }>(`${indexer.url}/transactions?status=failed&limit=100`);
    expect(failed.items.length).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain(`jenga_ledger_failed_last_24h ${failed.items.length}\n`);
    expect(metrics).toMatch(/^jenga_alerts_raised_total\{kind="stuck"\} [1-9]\d*$/m);

    // Never two accepted copies of one alert.
    const ids = webhook.accepted().map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);
});
