/**
 * Configuration from the environment, validated once at start-up. Every error names the
 * variable at fault and how to fix it.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Address, type Hex, createPublicClient, getAddress, http, isAddress } from "viem";
import { LOCAL_CHAIN_ID, PONDER_FINALITY_BLOCKS } from "../common/chain";
import { JengaError, type JengaErrorOptions, errorMessage } from "../common/errors";
import { DatabaseCheckError, checkChainCache, openStartupDatabase } from "./chain-cache";
import { claimPgliteDirectory, holdPostgresLock, pgliteHolder, ponderSchema } from "./indexer-lock";

export const LOCAL_RPC_URL = "http://127.0.0.1:8545";

/** A setting, flag or set-up step that is wrong; the message names it and the fix. */
export class ConfigError extends JengaError {
  override name = "ConfigError";
  override readonly expected = true;

  constructor(message: string, options?: JengaErrorOptions) {
    super(message, options);
    // The message says what to fix; a stack trace into this file would only bury it.
    this.stack = `${this.name}: ${message}`;
  }
}

export type Deployment = {
  chainId: number;
  address: Address;
  startBlock: number;
  transactionHash?: Hex;
};

export type Env = {
  chainId: number;
  /** Name of the chain in ponder.config.ts. */
  chainName: string;
  rpcUrl: string;
  /** Name of the variable the RPC URL came from, for error messages. */
  rpcVariable: string;
  chamaAddress: Address;
  startBlock: number;
  /** Where the address and start block came from, for error messages. */
  deploymentSource: string;
  /** Where the start block came from: CHAMA_START_BLOCK or the deployment file. */
  startBlockSource: string;
  databaseUrl: string | undefined;
  pgliteDirectory: string;
  pollingInterval: number;
  /** Skips the RPC cache: needed on a dev chain that is reset between runs. */
  disableCache: boolean;
  /** How many times the RPC URL is listed in Ponder's `rpc` array. Ponder rate-limits each
   * listed URL on its own (starting near 20 requests/s), so N copies allow N times the rate. */
  rpcFanout: number;
  /** Largest block range per eth_getLogs; undefined lets Ponder learn it from RPC errors. */
  ethGetLogsBlockRange: number | undefined;
};

/** RPC fan-out the benchmarks use on the local chain (see BENCHMARKS.md). Not the default: with
 * the URL listed 16 times, Ponder's handling of a reorg deeper than finality changed (the health
 * test's unrecoverable-reorg case converged instead of staying stale), and the reorg and chaos
 * evidence was gathered with one entry. Opt in with PONDER_RPC_FANOUT. */
export const BENCH_RPC_FANOUT = 16;

export type LoadEnvParameters = {
  env?: Record<string, string | undefined>;
  /** Project root, where deployments/ lives. */
  root?: string;
};

/** Path of the deployment file for a chain, as written by `npm run deploy`. */
export function deploymentPath(params: { root: string; chainId: number }): string {
  return path.join(params.root, "deployments", `${params.chainId}.json`);
}

/** Reads and validates a deployment file; `undefined` when there is none. */
export function readDeployment(params: { root: string; chainId: number }): Deployment | undefined {
  const file = deploymentPath(params);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ConfigError(`${file} is not valid JSON. Delete it and run \`npm run deploy\`.`, { cause });
  }
  const value = parsed as Partial<Deployment>;
  if (
    typeof value !== "object" ||
    value === null ||
    typeof value.address !== "string" ||
    !isAddress(value.address) ||
    typeof value.startBlock !== "number" ||
    !Number.isSafeInteger(value.startBlock) ||
    value.startBlock < 0 ||
    value.chainId !== params.chainId
  ) {
    throw new ConfigError(
      `${file} must hold { chainId: ${params.chainId}, address, startBlock }. Delete it and run \`npm run deploy\`.`,
    );
  }
  return {
    chainId: value.chainId,
    address: getAddress(value.address),
    startBlock: value.startBlock,
    transactionHash: value.transactionHash,
  };
}

function parseInteger(params: { name: string; value: string; min: number; max?: number }): number {
  const { name, value, min, max = Number.MAX_SAFE_INTEGER } = params;
  if (!/^\d+$/.test(value.trim())) {
    throw new ConfigError(`${name} must be a whole number, got "${value}".`);
  }
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}.`);
  }
  return n;
}

function parseUrl(params: { name: string; value: string; protocols: string[] }): string {
  const { name, value, protocols } = params;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${value}".`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${value}".`);
  }
  return value;
}

function getter(env: Record<string, string | undefined>) {
  return (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
}

export type ChainEnv = Pick<Env, "chainId" | "chainName" | "rpcUrl" | "rpcVariable">;

/** Reads and validates CHAIN_ID and its PONDER_RPC_URL_<id>: all that talking to the chain
 * needs (the deploy script uses just this). */
export function loadChainEnv(params: Pick<LoadEnvParameters, "env"> = {}): ChainEnv {
  const get = getter(params.env ?? process.env);
  const chainIdRaw = get("CHAIN_ID");
  const chainId = chainIdRaw ? parseInteger({ name: "CHAIN_ID", value: chainIdRaw, min: 1 }) : LOCAL_CHAIN_ID;
  const isLocal = chainId === LOCAL_CHAIN_ID;

  const rpcVariable = `PONDER_RPC_URL_${chainId}`;
  const rpcRaw = get(rpcVariable);
  if (!rpcRaw && !isLocal) {
    throw new ConfigError(`${rpcVariable} is not set. Set it to an HTTP(S) JSON-RPC URL for chain ${chainId}.`);
  }
  const rpcUrl = parseUrl({ name: rpcVariable, value: rpcRaw ?? LOCAL_RPC_URL, protocols: ["http:", "https:"] });
  return { chainId, chainName: isLocal ? "anvil" : `chain${chainId}`, rpcUrl, rpcVariable };
}

/** Reads and validates the environment. Throws a ConfigError naming the bad variable. */
export function loadEnv(params: LoadEnvParameters = {}): Env {
  const env = params.env ?? process.env;
  const root = params.root ?? process.cwd();
  const get = getter(env);
  const chain = loadChainEnv({ env });
  const { chainId } = chain;
  const isLocal = chainId === LOCAL_CHAIN_ID;

  const addressRaw = get("CHAMA_ADDRESS");
  const startBlockRaw = get("CHAMA_START_BLOCK");
  let chamaAddress: Address;
  let startBlock: number;
  let deploymentSource: string;
  let startBlockSource: string;
  if (addressRaw) {
    if (!isAddress(addressRaw, { strict: false })) {
      throw new ConfigError(`CHAMA_ADDRESS is not a valid address: "${addressRaw}".`);
    }
    chamaAddress = getAddress(addressRaw);
    if (!startBlockRaw) {
      throw new ConfigError(
        "CHAMA_START_BLOCK must be set with CHAMA_ADDRESS: use the block the contract was deployed in.",
      );
    }
    startBlock = parseInteger({ name: "CHAMA_START_BLOCK", value: startBlockRaw, min: 0 });
    deploymentSource = "CHAMA_ADDRESS";
    startBlockSource = "CHAMA_START_BLOCK";
  } else {
    const deployment = readDeployment({ root, chainId });
    if (!deployment) {
      throw new ConfigError(
        `CHAMA_ADDRESS is not set and ${path.relative(root, deploymentPath({ root, chainId }))} does not exist. ` +
          "Run `npm run deploy` (or `npm run dev` for a local chain), or set CHAMA_ADDRESS and CHAMA_START_BLOCK.",
      );
    }
    chamaAddress = deployment.address;
    startBlock = startBlockRaw
      ? parseInteger({ name: "CHAMA_START_BLOCK", value: startBlockRaw, min: 0 })
      : deployment.startBlock;
    deploymentSource = path.relative(root, deploymentPath({ root, chainId }));
    startBlockSource = startBlockRaw ? "CHAMA_START_BLOCK" : deploymentSource;
  }

  const databaseUrlRaw = get("DATABASE_URL");
  const databaseUrl = databaseUrlRaw
    ? parseUrl({ name: "DATABASE_URL", value: databaseUrlRaw, protocols: ["postgres:", "postgresql:"] })
    : undefined;

  const pollingRaw = get("PONDER_POLLING_INTERVAL_MS");
  const pollingInterval = pollingRaw
    ? parseInteger({ name: "PONDER_POLLING_INTERVAL_MS", value: pollingRaw, min: 100, max: 600_000 })
    : isLocal
      ? 100
      : 1_000;

  const fanoutRaw = get("PONDER_RPC_FANOUT");
  const rpcFanout = fanoutRaw ? parseInteger({ name: "PONDER_RPC_FANOUT", value: fanoutRaw, min: 1, max: 256 }) : 1;

  const rangeRaw = get("PONDER_ETH_GET_LOGS_BLOCK_RANGE");
  const ethGetLogsBlockRange = rangeRaw
    ? parseInteger({ name: "PONDER_ETH_GET_LOGS_BLOCK_RANGE", value: rangeRaw, min: 1, max: 10_000_000 })
    : undefined;

  return {
    ...chain,
    chamaAddress,
    startBlock,
    deploymentSource,
    startBlockSource,
    databaseUrl,
    pgliteDirectory: get("PGLITE_DIRECTORY") ?? path.join(root, ".ponder", "pglite"),
    pollingInterval,
    disableCache: isLocal,
    rpcFanout,
    ethGetLogsBlockRange,
  };
}

/** V8 semi-space for the indexer process, in MiB. Node's default (16) makes the backfill spend
 * much of its time in young-generation GC; 64 measured faster with a lower peak RSS (see
 * BENCHMARKS.md). */
export const DEFAULT_SEMI_SPACE_MB = 64;

/** NODE_OPTIONS for the indexer process: the caller's, plus `--max-semi-space-size` from
 * PONDER_NODE_SEMI_SPACE_MB unless NODE_OPTIONS already sets it. Throws a ConfigError. */
export function indexerNodeOptions(params: Pick<LoadEnvParameters, "env"> = {}): string {
  const get = getter(params.env ?? process.env);
  const raw = get("PONDER_NODE_SEMI_SPACE_MB");
  const mb = raw ? parseInteger({ name: "PONDER_NODE_SEMI_SPACE_MB", value: raw, min: 1, max: 1_024 }) : DEFAULT_SEMI_SPACE_MB;
  const existing = get("NODE_OPTIONS") ?? "";
  if (existing.includes("--max-semi-space-size")) return existing;
  return `${existing} --max-semi-space-size=${mb}`.trim();
}

/** Checks that the RPC answers and serves the configured chain. Throws a ConfigError that
 * names the fix. */
export async function assertChain(env: ChainEnv, options: { timeoutMs?: number } = {}) {
  const client = createPublicClient({
    // A few retries ride out a flaky RPC (5xx, 429, dropped connection) at start-up.
    transport: http(env.rpcUrl, { timeout: options.timeoutMs ?? 5_000, retryCount: 3, retryDelay: 200 }),
  });

  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (cause) {
    const reason = errorMessage(cause).split("\n")[0];
    throw new ConfigError(
      `Cannot reach the JSON-RPC at ${env.rpcUrl} (${env.rpcVariable}): ${reason} ` +
        (env.chainId === LOCAL_CHAIN_ID
          ? "Start a local chain with `npm run dev`, or point the variable at a running node."
          : "Check the URL and that the node is up."),
      // No `cause`: Ponder's logger would print the cause's stack in place of this message.
    );
  }
  if (chainId !== env.chainId) {
    throw new ConfigError(
      `${env.rpcVariable} (${env.rpcUrl}) serves chain ${chainId}, but chain ${env.chainId} is configured. ` +
        `Point ${env.rpcVariable} at a chain-${env.chainId} node, or set CHAIN_ID=${chainId} with its own RPC URL and deployment.`,
    );
  }
  return client;
}

/** Set once this process has checked the database: `ponder dev` executes the config again on
 * every edit, while its own connection to the database is open. A global, as the config's
 * modules are executed afresh each time. */
const DATABASE_CHECKED = Symbol.for("jenga.preflight.databaseChecked");
const processState = globalThis as { [DATABASE_CHECKED]?: boolean };

/** The indexer's start-up checks, before Ponder boots: the chain (see assertChain), the Chama
 * contract at the configured address, the start block not beyond the head, the database
 * reachable, and Ponder's sync cache still matching the chain (a reset chain's cache is dropped,
 * see config/chain-cache.ts). Throws a ConfigError that names the fix. */
export async function preflight(env: Env, options: { timeoutMs?: number; log?: (line: string) => void; schema?: string } = {}): Promise<void> {
  const client = await assertChain(env, options);
  const code = await client.getCode({ address: env.chamaAddress });
  if (!code || code === "0x") {
    throw new ConfigError(
      `No contract at ${env.chamaAddress} on chain ${env.chainId} (address from ${env.deploymentSource}). ` +
        (env.chainId === LOCAL_CHAIN_ID
          ? "The local chain was probably restarted: run `npm run deploy`, or `npm run dev` to start afresh."
          : "Check CHAMA_ADDRESS and CHAIN_ID."),
    );
  }

  // Ponder would retry BlockNotFoundError for the start block forever.
  const head = await client.getBlockNumber({ cacheTime: 0 });
  if (BigInt(env.startBlock) > head) {
    throw new ConfigError(
      `The start block ${env.startBlock} (from ${env.startBlockSource}) is beyond the head of chain ${env.chainId} (block ${head}). ` +
        (env.startBlockSource === "CHAMA_START_BLOCK"
          ? "Set CHAMA_START_BLOCK to the block the contract was deployed in."
          : `The chain was probably restarted: run \`npm run deploy\` to write a new ${env.startBlockSource}.`),
    );
  }

  if (processState[DATABASE_CHECKED]) return;
  const log = options.log ?? console.warn;
  const schema = options.schema ?? ponderSchema();
  // Two processes on one PGlite directory would corrupt it: refuse before opening it.
  const holder = env.databaseUrl ? undefined : pgliteHolder(env.pgliteDirectory);
  if (holder !== undefined) {
    throw new ConfigError(
      `The PGlite directory ${env.pgliteDirectory} is in use by indexer process ${holder}: stop it first, or set PGLITE_DIRECTORY to another directory (one directory belongs to one process).`,
    );
  }
  let database: Awaited<ReturnType<typeof openStartupDatabase>>;
  try {
    database = await openStartupDatabase({ databaseUrl: env.databaseUrl, pgliteDirectory: env.pgliteDirectory, connectTimeoutMs: options.timeoutMs });
  } catch (error) {
    // No `cause`: Ponder's logger would print the cause's stack in place of this message.
    if (error instanceof DatabaseCheckError) throw new ConfigError(error.message);
    throw error;
  }
  if (database) {
    try {
      // The indexer lock (./indexer-lock.ts): on PostgreSQL held for the life of the process; on
      // either database a crashed indexer's stale lock mark is cleared.
      if (env.databaseUrl) await holdPostgresLock({ databaseUrl: env.databaseUrl, schema, log, connectTimeoutMs: options.timeoutMs });
      const result = await checkChainCache({ database, chainId: env.chainId, client });
      if (result.status === "dropped") log(result.message);
      if (!env.databaseUrl) await claimPgliteDirectory({ directory: env.pgliteDirectory, schema, db: database, log });
    } finally {
      await database.close();
    }
  } else if (!env.databaseUrl) {
    await claimPgliteDirectory({ directory: env.pgliteDirectory, schema, db: undefined, log });
  }
  processState[DATABASE_CHECKED] = true;
}

export type OpsEnv = {
  /** Blocks after which Ponder treats a block as final (default PONDER_FINALITY_BLOCKS); a
   * reorg deeper than this is unrecoverable for the running indexer. */
  finalityBlocks: number;
  /** Lag above which /sync-health says `lagging`. */
  maxLagBlocks: number;
  maxLagSeconds: number;
  /** The indexed block not moving for this long while the chain moves on means `stalled`. */
  stallSeconds: number;
  /** Timeout of each health call to the RPC. */
  rpcTimeoutMs: number;
  /** How often the API process samples the chain head (reorg watch, lag history). */
  sampleIntervalMs: number;
  /** Periodic reconciliation inside the API process. */
  reconcileEnabled: boolean;
  reconcileIntervalMs: number;
  /** Rows per page when reading tables; calls per JSON-RPC batch; blocks per eth_getLogs. */
  reconcilePageSize: number;
  reconcileBatchSize: number;
  reconcileLogRange: number;
  /** Guards POST /reconcile; unset means the endpoint always answers 401. */
  adminToken: string | undefined;
  /** The RPC the reconciler trusts, when it should not be the indexer's own (an independent
   * node checks more than the same node twice); undefined: the indexer's RPC. */
  reconcileRpcUrl: string | undefined;
  /** Where operator alerts are posted as JSON (ops/alerts.ts); undefined: alerts are only listed
   * on /sync-health. */
  alertWebhookUrl: string | undefined;
  /** Timeout of one webhook delivery. */
  alertWebhookTimeoutMs: number;
  /** Deliveries of one alert before it is given up (the first one included). */
  alertMaxAttempts: number;
  /** Wait before the first retry; doubled each retry up to alertRetryMaxMs. */
  alertRetryBaseMs: number;
  alertRetryMaxMs: number;
  /** Alerts waiting for delivery at most; past it the oldest waiting one is dropped. */
  alertQueueSize: number;
  /** How long a new overall status must hold (every sample) before it is alerted. */
  alertDebounceMs: number;
};

function parseBoolean(params: { name: string; value: string }): boolean {
  const v = params.value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${params.name} must be true or false, got "${params.value}".`);
}

/** Reads and validates the health, reconciliation and admin settings. Throws a ConfigError
 * naming the bad variable. */
export function loadOpsEnv(params: Pick<LoadEnvParameters, "env"> = {}): OpsEnv {
  const get = getter(params.env ?? process.env);
  const int = (name: string, fallback: number, min: number, max?: number) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger({ name, value: raw, min, max });
  };
  const reconcileRaw = get("RECONCILE_ENABLED");
  const reconcileRpcRaw = get("RECONCILE_RPC_URL");
  const adminToken = get("ADMIN_TOKEN");
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError("ADMIN_TOKEN must be at least 16 characters long (use `openssl rand -hex 32`).");
  }
  return {
    finalityBlocks: int("FINALITY_BLOCKS", PONDER_FINALITY_BLOCKS, 1, 100_000),
    maxLagBlocks: int("HEALTH_MAX_LAG_BLOCKS", 10, 0),
    maxLagSeconds: int("HEALTH_MAX_LAG_SECONDS", 120, 0),
    stallSeconds: int("HEALTH_STALL_SECONDS", 300, 1),
    rpcTimeoutMs: int("HEALTH_RPC_TIMEOUT_MS", 2_000, 50, 60_000),
    sampleIntervalMs: int("HEALTH_SAMPLE_INTERVAL_MS", 5_000, 100, 3_600_000),
    reconcileEnabled: reconcileRaw === undefined ? false : parseBoolean({ name: "RECONCILE_ENABLED", value: reconcileRaw }),
    reconcileIntervalMs: int("RECONCILE_INTERVAL_SECONDS", 600, 1, 7 * 86_400) * 1_000,
    reconcilePageSize: int("RECONCILE_PAGE_SIZE", 1_000, 1, 100_000),
    reconcileBatchSize: int("RECONCILE_BATCH_SIZE", 500, 1, 10_000),
    reconcileLogRange: int("RECONCILE_LOG_RANGE", 50_000, 1, 10_000_000),
    adminToken,
    reconcileRpcUrl: reconcileRpcRaw ? parseUrl({ name: "RECONCILE_RPC_URL", value: reconcileRpcRaw, protocols: ["http:", "https:"] }) : undefined,
    ...alertSettings(get, int),
  };
}

/** The ALERT_* settings of loadOpsEnv. */
function alertSettings(get: (name: string) => string | undefined, int: (name: string, fallback: number, min: number, max?: number) => number) {
  const webhookRaw = get("ALERT_WEBHOOK_URL");
  const alertRetryBaseMs = int("ALERT_RETRY_BASE_MS", 1_000, 10, 600_000);
  const alertRetryMaxMs = int("ALERT_RETRY_MAX_MS", 60_000, 10, 3_600_000);
  if (alertRetryMaxMs < alertRetryBaseMs) {
    throw new ConfigError(`ALERT_RETRY_MAX_MS (${alertRetryMaxMs}) is below ALERT_RETRY_BASE_MS (${alertRetryBaseMs}): raise it or lower ALERT_RETRY_BASE_MS.`);
  }
  return {
    // The URL is checked, never echoed: a webhook URL is often a secret (Slack's, say).
    alertWebhookUrl: webhookRaw ? parseSecretUrl({ name: "ALERT_WEBHOOK_URL", value: webhookRaw }) : undefined,
    alertWebhookTimeoutMs: int("ALERT_WEBHOOK_TIMEOUT_MS", 5_000, 100, 60_000),
    alertMaxAttempts: int("ALERT_MAX_ATTEMPTS", 6, 1, 20),
    alertRetryBaseMs,
    alertRetryMaxMs,
    alertQueueSize: int("ALERT_QUEUE_SIZE", 100, 1, 10_000),
    alertDebounceMs: int("ALERT_DEBOUNCE_MS", 30_000, 0, 86_400_000),
  };
}

/** An http(s) URL whose value must not appear in an error (it may hold a token). */
function parseSecretUrl(params: { name: string; value: string }): string {
  let url: URL;
  try {
    url = new URL(params.value);
  } catch {
    throw new ConfigError(`${params.name} is not a valid URL (its value is not shown: it may hold a secret).`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${params.name} must use http: or https:, got "${url.protocol}".`);
  }
  return params.value;
}

export type ApiEnv = {
  /** Entries the GraphQL response cache keeps; 0 turns it off. */
  graphqlCacheMaxEntries: number;
  /** Memory the GraphQL response cache may use, in bytes. */
  graphqlCacheMaxBytes: number;
  /** How long one SQL-over-HTTP query may run before the API answers 504 and, on PostgreSQL,
   * cancels it (and Ponder's retries of it). */
  sqlTimeoutMs: number;
  /** Largest request body on any API route, in bytes; larger ones get 413 (counted as they
   * arrive, so a chunked body with no Content-Length is cut off too). */
  maxBodyBytes: number;
  /** Largest GraphQL `variables`, in bytes of JSON. */
  graphqlMaxVariablesBytes: number;
  /** Most input-object fields (filter clauses) in one GraphQL request, inline or in variables. */
  graphqlMaxFilterClauses: number;
  /** Deepest nesting of a GraphQL argument (AND/OR levels of a filter). */
  graphqlMaxFilterDepth: number;
  /** Most list items (`_in` lists, AND/OR entries) in one GraphQL request's arguments. */
  graphqlMaxListItems: number;
  /** GraphQL and SQL requests served at once; more wait in a queue. */
  maxConcurrentRequests: number;
  /** Requests that may wait for a slot; past that they get 503 at once. */
  maxQueuedRequests: number;
  /** Longest wait in the queue before a 503. */
  queueTimeoutMs: number;
  /** Origins allowed to read API responses from a browser: exact origins, `scheme://host:*`
   * for any port, or `*`. The API's own origin is always allowed. */
  corsOrigins: string[];
};

/** Reads and validates the API's settings. Throws a ConfigError naming the bad variable. */
export function loadApiEnv(params: Pick<LoadEnvParameters, "env"> = {}): ApiEnv {
  const get = getter(params.env ?? process.env);
  const entriesRaw = get("GRAPHQL_CACHE_MAX_ENTRIES");
  const mbRaw = get("GRAPHQL_CACHE_MAX_MB");
  const entries = entriesRaw === undefined ? 10_000 : parseInteger({ name: "GRAPHQL_CACHE_MAX_ENTRIES", value: entriesRaw, min: 0, max: 10_000_000 });
  const mb = mbRaw === undefined ? 64 : parseInteger({ name: "GRAPHQL_CACHE_MAX_MB", value: mbRaw, min: 1, max: 65_536 });
  const sqlTimeoutRaw = get("SQL_TIMEOUT_MS");
  const sqlTimeoutMs = sqlTimeoutRaw === undefined ? 30_000 : parseInteger({ name: "SQL_TIMEOUT_MS", value: sqlTimeoutRaw, min: 100, max: 3_600_000 });
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger({ name, value: raw, min, max });
  };
  const maxBodyBytes = int("API_MAX_BODY_BYTES", 128 * 1024, 1_024, 64 * 1024 * 1024);
  const graphqlMaxVariablesBytes = int("GRAPHQL_MAX_VARIABLES_BYTES", 64 * 1024, 256, 64 * 1024 * 1024);
  if (graphqlMaxVariablesBytes > maxBodyBytes) {
    throw new ConfigError(
      `GRAPHQL_MAX_VARIABLES_BYTES (${graphqlMaxVariablesBytes}) is larger than API_MAX_BODY_BYTES (${maxBodyBytes}): lower it or raise API_MAX_BODY_BYTES.`,
    );
  }
  // Default: the web app in dev (`npm run dev` serves it on 127.0.0.1:WEB_PORT, tests on any
  // free port) from the machine itself.
  const corsRaw = get("API_CORS_ORIGINS") ?? "http://127.0.0.1:*,http://localhost:*";
  const corsOrigins = corsRaw.split(",").map((o) => o.trim()).filter((o) => o !== "");
  for (const origin of corsOrigins) {
    if (origin !== "*" && !/^https?:\/\/([^/:?#@\s]+|\[[0-9a-fA-F:]+\])(:(\d{1,5}|\*))?$/.test(origin)) {
      throw new ConfigError(
        `API_CORS_ORIGINS must be a comma-separated list of origins like https://app.example.org or http://localhost:* (no path, no trailing slash), got "${origin}".`,
      );
    }
  }
  if (corsOrigins.length === 0) throw new ConfigError("API_CORS_ORIGINS is empty: list at least one origin, e.g. https://app.example.org.");
  return {
    graphqlCacheMaxEntries: entries,
    graphqlCacheMaxBytes: mb * 1024 * 1024,
    sqlTimeoutMs,
    maxBodyBytes,
    graphqlMaxVariablesBytes,
    graphqlMaxFilterClauses: int("GRAPHQL_MAX_FILTER_CLAUSES", 200, 1, 100_000),
    graphqlMaxFilterDepth: int("GRAPHQL_MAX_FILTER_DEPTH", 8, 1, 64),
    graphqlMaxListItems: int("GRAPHQL_MAX_LIST_ITEMS", 1_000, 1, 1_000_000),
    maxConcurrentRequests: int("API_MAX_CONCURRENT_REQUESTS", 16, 1, 10_000),
    maxQueuedRequests: int("API_MAX_QUEUED_REQUESTS", 32, 0, 100_000),
    queueTimeoutMs: int("API_QUEUE_TIMEOUT_MS", 2_000, 10, 600_000),
    corsOrigins,
  };
}

export type SqlEnv = {
  /** A connection string for a login role that can only read the served schema; SQL over HTTP
   * then connects as that role instead of taking `readRole`. */
  sqlDatabaseUrl: string | undefined;
  /** The NOLOGIN role SQL over HTTP takes for each query on PostgreSQL (`SET LOCAL ROLE`). */
  readRole: string;
  /** Connections SQL over HTTP holds on PostgreSQL, apart from Ponder's own pools. */
  poolSize: number;
  /** On PGlite, the most rows one query's plan may estimate to visit; 0 turns the bound off. */
  pgliteMaxRows: number;
};

/** Reads and validates the settings of SQL over HTTP. Throws a ConfigError naming the bad
 * variable. */
export function loadSqlEnv(params: Pick<LoadEnvParameters, "env"> = {}): SqlEnv {
  const get = getter(params.env ?? process.env);
  const urlRaw = get("SQL_DATABASE_URL");
  const role = get("SQL_READ_ROLE") ?? "jenga_sql_reader";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    throw new ConfigError(`SQL_READ_ROLE must be a lower-case PostgreSQL role name (letters, digits, _; at most 63), got "${role}".`);
  }
  const poolRaw = get("SQL_POOL_SIZE");
  const maxRowsRaw = get("SQL_PGLITE_MAX_ROWS");
  return {
    sqlDatabaseUrl: urlRaw ? parseUrl({ name: "SQL_DATABASE_URL", value: urlRaw, protocols: ["postgres:", "postgresql:"] }) : undefined,
    readRole: role,
    poolSize: poolRaw === undefined ? 4 : parseInteger({ name: "SQL_POOL_SIZE", value: poolRaw, min: 1, max: 100 }),
    pgliteMaxRows: maxRowsRaw === undefined ? 10_000_000 : parseInteger({ name: "SQL_PGLITE_MAX_ROWS", value: maxRowsRaw, min: 0, max: 1e12 }),
  };
}

export type LedgerEnv = {
  /** Runs the ledger (intake, reads and the follower) in this API process. */
  enabled: boolean;
  /** On PostgreSQL, the schema the ledger keeps its tables in (never one of Ponder's). */
  schema: string;
  /** With the embedded default, the ledger's own PGlite directory. */
  pgliteDirectory: string;
  /** A pending transaction without a receipt for this long (from its first broadcast) is failed
   * "timed out"; one the node no longer knows is dropped. */
  timeoutMs: number;
  /** How often the follower looks at every open record. */
  pollIntervalMs: number;
  /** With replicas on one PostgreSQL, how often a standby tries to take over the follower (and
   * the leader checks its lock's connection): the take-over time after the leader dies. */
  leaderRetryMs: number;
  /** Most push streams (`GET /transactions/stream`) open at once in one process. */
  maxStreams: number;
  /** Intake requests per minute from one sender (the recovered `from`) and from one client. */
  maxPerSenderPerMinute: number;
  maxPerClientPerMinute: number;
};

/** Reads and validates the transaction ledger's settings. Throws a ConfigError naming the bad
 * variable. */
export function loadLedgerEnv(params: LoadEnvParameters = {}): LedgerEnv {
  const get = getter(params.env ?? process.env);
  const root = params.root ?? process.cwd();
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = get(name);
    return raw === undefined ? fallback : parseInteger({ name, value: raw, min, max });
  };
  const enabledRaw = get("LEDGER_ENABLED");
  const schema = get("LEDGER_SCHEMA") ?? "jenga_ledger";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ConfigError(`LEDGER_SCHEMA must be a lower-case PostgreSQL schema name (letters, digits, _; at most 63), got "${schema}".`);
  }
  if (schema === "ponder_sync" || schema === get("DATABASE_SCHEMA")) {
    throw new ConfigError(`LEDGER_SCHEMA must not be one of Ponder's schemas (got "${schema}"): the ledger lives beside the index, never inside it.`);
  }
  return {
    enabled: enabledRaw === undefined ? true : parseBoolean({ name: "LEDGER_ENABLED", value: enabledRaw }),
    schema,
    pgliteDirectory: get("LEDGER_PGLITE_DIRECTORY") ?? path.join(root, ".ponder", "ledger"),
    timeoutMs: int("LEDGER_TIMEOUT_MS", 10 * 60 * 1000, 1_000, 7 * 86_400_000),
    pollIntervalMs: int("LEDGER_POLL_INTERVAL_MS", 1_000, 50, 600_000),
    leaderRetryMs: int("LEDGER_LEADER_RETRY_MS", 1_000, 100, 60_000),
    maxStreams: int("LEDGER_MAX_STREAMS", 200, 1, 10_000),
    maxPerSenderPerMinute: int("LEDGER_MAX_PER_SENDER_PER_MINUTE", 20, 1, 100_000),
    maxPerClientPerMinute: int("LEDGER_MAX_PER_CLIENT_PER_MINUTE", 120, 1, 1_000_000),
  };
}
