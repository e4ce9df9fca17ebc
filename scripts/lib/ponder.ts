import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError, indexerNodeOptions } from "../../config/env";
import { projectRoot } from "./chama";
import { waitFor } from "./processes";

/** Path of the ponder CLI entry point (a direct dependency, so in the project's node_modules). */
export function ponderBin(): string {
  const bin = path.join(projectRoot, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");
  if (!existsSync(bin)) throw new ConfigError("The ponder CLI is not installed: run `npm install`.");
  return bin;
}

/** Spawns the ponder CLI (`dev`, `start`, `serve`…) in the project root (or `cwd`, a copy of
 * it), with the Node options from PONDER_NODE_SEMI_SPACE_MB (see config/env.ts). */
export function spawnPonder(params: {
  args: string[];
  env?: Record<string, string | undefined>;
  stdio?: "inherit" | "pipe";
  cwd?: string;
}): ChildProcess {
  const env = { ...process.env, PONDER_TELEMETRY_DISABLED: "true", ...params.env };
  return spawn(process.execPath, [ponderBin(), ...params.args], {
    cwd: params.cwd ?? projectRoot,
    env: { ...env, NODE_OPTIONS: indexerNodeOptions({ env }) },
    stdio: params.stdio === "pipe" ? ["ignore", "pipe", "pipe"] : "inherit",
  });
}

/** Waits until a Ponder process (`start`, `serve`) answers /health at `url`; `exitedEarly`
 * throws when the process is gone, so a crash fails at once instead of at the timeout. */
export async function waitForPonderHealth(params: { url: string; what: string; exitedEarly: () => void; timeoutMs: number; intervalMs: number }): Promise<void> {
  await waitFor({
    what: params.what,
    timeoutMs: params.timeoutMs,
    intervalMs: params.intervalMs,
    failFast: params.exitedEarly,
    check: async () => ((await fetch(`${params.url}/health`)).ok ? true : undefined),
  });
}
