/** The project's scripts (`npm run <name>`) as child processes, with a test chain's environment. */
import { spawn } from "node:child_process";
import type { Address } from "viem";
import { projectRoot } from "../../scripts/lib/chama";
import { waitForPonderHealth } from "../../scripts/lib/ponder";
import { getFreePort } from "../../scripts/lib/ports";
import { stopProcess, waitForExit } from "../../scripts/lib/processes";
import { CHAIN_ID, type Chain, type Database, postgresUrl } from "./chain";
import { ADMIN_TOKEN } from "./indexer";

/** The environment the project's scripts need for a test chain and deployment. */
export function scriptEnv(params: { chain: Chain; address: Address; startBlock: number; database: Database; pgliteDirectory?: string }): Record<string, string> {
  return {
    CHAIN_ID: String(CHAIN_ID),
    [`PONDER_RPC_URL_${CHAIN_ID}`]: params.chain.rpcUrl,
    CHAMA_ADDRESS: params.address,
    CHAMA_START_BLOCK: String(params.startBlock),
    DATABASE_URL: params.database === "postgres" ? (params.chain.databaseUrl ?? postgresUrl()) : "",
    PGLITE_DIRECTORY: params.pgliteDirectory ?? "",
    ADMIN_TOKEN,
    PONDER_TELEMETRY_DISABLED: "true",
  };
}

/** Starts one of the project's scripts (`scripts/<name>.ts`, as `npm run <name>` does). */
export function spawnScript(params: { name: string; args?: string[]; env: Record<string, string>; detached?: boolean }) {
  const child = spawn(process.execPath, ["--import", "tsx", `scripts/${params.name}.ts`, ...(params.args ?? [])], {
    cwd: projectRoot,
    // A process group of its own, so a test can kill the script and what it started at once.
    detached: params.detached ?? false,
    env: { ...process.env, ...params.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

/** Runs a script to its end; resolves with its exit code and output. Kills it after `timeoutMs`. */
export async function runScript(params: { name: string; args?: string[]; env: Record<string, string>; timeoutMs?: number }) {
  const { child, output } = spawnScript(params);
  const timer = setTimeout(() => child.kill("SIGKILL"), params.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, ...output() };
}

/** Starts an API-only replica with `npm run serve` on a free port and waits for /health. */
export async function startReplica(params: { schema: string; env: Record<string, string> }) {
  const port = await getFreePort();
  const { child, output } = spawnScript({ name: "serve", args: ["--port", String(port), "--hostname", "127.0.0.1", "--schema", params.schema], env: params.env, detached: true });
  const url = `http://127.0.0.1:${port}`;
  await waitForPonderHealth({
    url,
    what: `the replica on ${url}`,
    exitedEarly: () => {
      if (child.exitCode !== null) throw new Error(`replica exited with code ${child.exitCode}: ${JSON.stringify(output())}`);
    },
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  /** SIGKILL to the replica's whole process group (the script and its `ponder serve`), as when
   * its machine dies. */
  const kill = async () => {
    const exited = waitForExit(child);
    process.kill(-child.pid!, "SIGKILL");
    await exited;
  };
  return { url, output, stop: () => stopProcess(child, { graceMs: 5_000 }), kill };
}
