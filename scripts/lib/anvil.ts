import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { LOCAL_CHAIN_ID } from "../../common/chain";
import { ConfigError } from "../../config/env";
import { assertPortFree } from "./ports";
import { assertRunning, stopProcess, waitFor } from "./processes";

/** Path of the anvil binary shipped by the @foundry-rs/anvil npm package. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const binary = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", "anvil");
    if (existsSync(binary)) return binary;
  } catch {
    // Fall through to the error below.
  }
  throw new ConfigError(`anvil binary not found (${pkg}). Run \`npm install\`; anvil ships with @foundry-rs/anvil.`);
}

export type StartAnvilParameters = {
  port: number;
  host?: string;
  chainId?: number;
  /** Seconds between blocks; automine (one block per transaction) when omitted. */
  blockTime?: number;
  /** Genesis timestamp, seconds since the epoch. */
  timestamp?: bigint;
  /** Extra command-line arguments. */
  args?: string[];
  /** Forward anvil's output to this process's stdout/stderr. */
  inheritOutput?: boolean;
  /** How long to wait for the first JSON-RPC answer (default 15 s; loading a large state takes longer). */
  readyTimeoutMs?: number;
};

export type Anvil = {
  rpcUrl: string;
  process: ChildProcess;
  /** Stops this anvil and waits for it to exit. */
  stop: () => Promise<void>;
};

/** Starts anvil on a free port and resolves once it answers JSON-RPC. */
export async function startAnvil(params: StartAnvilParameters): Promise<Anvil> {
  const { port, host = "127.0.0.1", chainId = LOCAL_CHAIN_ID, blockTime, timestamp, inheritOutput = false } = params;
  await assertPortFree({ port, host, what: "anvil", variable: "ANVIL_PORT" });

  const args = ["--host", host, "--port", String(port), "--chain-id", String(chainId)];
  if (blockTime !== undefined) args.push("--block-time", String(blockTime));
  if (timestamp !== undefined) args.push("--timestamp", timestamp.toString());
  args.push(...(params.args ?? []));
  if (!inheritOutput) args.push("--silent");

  const child = spawn(anvilBinary(), args, { stdio: ["ignore", inheritOutput ? "inherit" : "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (inheritOutput) process.stderr.write(chunk);
  });

  const rpcUrl = `http://${host}:${port}`;
  try {
    await waitFor({
      what: `anvil to answer on ${rpcUrl}`,
      timeoutMs: params.readyTimeoutMs ?? 15_000,
      failFast: () => assertRunning({ child, what: "anvil", output: () => stderr.trim() }),
      check: async () => {
        const response = await fetch(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        });
        return response.ok ? true : undefined;
      },
    });
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { rpcUrl, process: child, stop: () => stopProcess(child) };
}
