/**
 * `npm run dev`, the main job: one command brings up anvil, the deployed contract, seeded demo
 * data and the indexer; Ctrl-C (SIGINT) stops everything it started; a busy port is a clear
 * error before anything starts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { projectRoot } from "../scripts/lib/chama";
import { getFreePort, isPortFree } from "../scripts/lib/ports";
import { stopProcess, waitForExit } from "../scripts/lib/processes";
import { waitFor } from "./helpers";

function startDev(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: "", PONDER_TELEMETRY_DISABLED: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe("npm run dev", () => {
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-dev-"));
  let dev: ChildProcess | undefined;
  afterAll(async () => {
    if (dev) await stopProcess(dev);
    rmSync(pgliteDirectory, { recursive: true, force: true });
  });

  // Its own wait allows 150 s for a busy machine; the test's limit leaves room for the teardown.
  test("serves the seeded demo data at /graphql, then Ctrl-C stops everything", { timeout: 240_000 }, async () => {
    const [anvilPort, apiPort] = [await getFreePort(), await getFreePort()];
    const started = startDev({ ANVIL_PORT: String(anvilPort), PORT: String(apiPort), PGLITE_DIRECTORY: pgliteDirectory });
    dev = started.child;

    await waitFor({
      what: "npm run dev to report it is up",
      timeoutMs: 150_000,
      intervalMs: 200,
      check: () => {
        if (started.child.exitCode !== null) throw new Error(`dev exited early:\n${started.output()}`);
        return started.output().includes("Jenga Index is up.") ? true : undefined;
      },
    });
    expect(started.output()).toMatch(/seeding 58\/58 transactions/);
    expect(started.output()).toContain(`GraphQL   http://127.0.0.1:${apiPort}/graphql`);

    const response = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ chamas(orderBy: \"id\") { totalCount items { name memberCount } } contributions { totalCount } payouts { totalCount } }",
      }),
    });
    const body = (await response.json()) as {
      data: { chamas: { totalCount: number; items: { name: string; memberCount: number }[] }; contributions: { totalCount: number }; payouts: { totalCount: number } };
    };
    expect(body.data.chamas.items.map((c) => c.name)).toEqual([
      "Mama Mboga Savers",
      "Boda Boda Riders",
      "Jenga Youth Group",
      "Harambee Investment Club",
    ]);
    expect(body.data.contributions.totalCount).toBe(48);
    expect(body.data.payouts.totalCount).toBe(6);
    expect(body.data.chamas.items.every((c) => c.memberCount > 0)).toBe(true);

    // Ctrl-C: SIGINT to the script; anvil and the indexer must be gone with it.
    started.child.kill("SIGINT");
    await waitForExit(started.child);
    expect(started.child.exitCode).toBe(0);
    expect(await isPortFree({ port: anvilPort })).toBe(true);
    expect(await isPortFree({ port: apiPort })).toBe(true);
  });

  test("a busy port is a clear error naming it, and nothing starts", async () => {
    const [anvilPort, apiPort] = [await getFreePort(), await getFreePort()];
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(apiPort, "127.0.0.1", resolve));
    try {
      const started = startDev({ ANVIL_PORT: String(anvilPort), PORT: String(apiPort), PGLITE_DIRECTORY: pgliteDirectory });
      await waitForExit(started.child);
      expect(started.child.exitCode).toBe(1);
      expect(started.output()).toContain(
        `error: Port ${apiPort} on 127.0.0.1 (the indexer's API) is already in use. Stop whatever holds it (\`ss -ltnp 'sport = :${apiPort}'\` shows it) or choose another port with PORT.`,
      );
      expect(started.output()).not.toContain("Starting anvil");
      expect(await isPortFree({ port: anvilPort })).toBe(true);
    } finally {
      blocker.close();
    }
  });
});
