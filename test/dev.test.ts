/**
 * `npm run dev`, the main job: one command brings up anvil, the deployed contract, seeded demo
 * data, the indexer and the web app; Ctrl-C (SIGINT) stops everything it started; a busy port
 * is a clear error before anything starts. Every server runs on a port the test picked, so
 * whatever holds the defaults (8545, 42069, 5173) on this machine does not matter.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { graphql } from "../common/graphql";
import { projectRoot } from "../scripts/lib/chama";
import { getFreePort, isPortFree } from "../scripts/lib/ports";
import { assertRunning, stopProcess, waitForExit } from "../scripts/lib/processes";
import { waitFor } from "../scripts/lib/processes";

function startDev(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts", ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: "", PONDER_TELEMETRY_DISABLED: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** Listens on 127.0.0.1:`port` when it is free, to prove nothing depends on it; stop() frees it.
 * `held` is false when something else already holds the port (which proves the same). */
async function holdPort(port: number) {
  const server = net.createServer();
  const held = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(true));
  });
  return { held, stop: () => new Promise<void>((resolve) => (held ? server.close(() => resolve()) : resolve())) };
}

/** Checks the up message, the seeded rows at /graphql and the web app's page. */
async function expectDevServes(params: { output: string; apiPort: number; webPort: number }) {
  const { output, apiPort, webPort } = params;
  expect(output).toMatch(/seeding 58\/58 transactions/);
  expect(output).toContain(`GraphQL   http://127.0.0.1:${apiPort}/graphql`);

  const data = await graphql<{
    chamas: { totalCount: number; items: { name: string; memberCount: number }[] };
    contributions: { totalCount: number };
    payouts: { totalCount: number };
  }>({
    url: `http://127.0.0.1:${apiPort}/graphql`,
    query: "{ chamas(orderBy: \"id\") { totalCount items { name memberCount } } contributions { totalCount } payouts { totalCount } }",
  });
  expect(data.chamas.items.map((c) => c.name)).toEqual([
    "Mama Mboga Savers",
    "Boda Boda Riders",
    "Jenga Youth Group",
    "Harambee Investment Club",
  ]);
  expect(data.contributions.totalCount).toBe(48);
  expect(data.payouts.totalCount).toBe(6);
  expect(data.chamas.items.every((c) => c.memberCount > 0)).toBe(true);

  expect(output).toContain(`Web app   http://127.0.0.1:${webPort}   `);
  const page = await fetch(`http://127.0.0.1:${webPort}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("<title>Jenga Index</title>");
}

describe("npm run dev", () => {
  const pgliteDirectory = mkdtempSync(path.join(os.tmpdir(), "jenga-dev-"));
  let dev: ChildProcess | undefined;
  afterAll(async () => {
    if (dev) await stopProcess(dev);
    rmSync(pgliteDirectory, { recursive: true, force: true });
  });

  // Its own wait allows 150 s for a busy machine; the test's limit leaves room for the teardown.
  test("serves the seeded demo data at /graphql and the web app, then Ctrl-C stops everything", { timeout: 240_000 }, async () => {
    // The web app's default port, held by someone else: dev must not need it.
    const defaultWeb = await holdPort(5173);
    try {
      const [anvilPort, apiPort, webPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
      const started = startDev({ PGLITE_DIRECTORY: pgliteDirectory }, ["--anvil-port", String(anvilPort), "--port", String(apiPort), "--web-port", String(webPort)]);
      dev = started.child;

      await waitFor({
        what: "npm run dev to report it is up",
        timeoutMs: 150_000,
        intervalMs: 200,
        failFast: () => assertRunning({ child: started.child, what: "npm run dev", output: started.output }),
        check: () => (started.output().includes("Jenga Index is up.") ? true : undefined),
      });
      await expectDevServes({ output: started.output(), apiPort, webPort });
      expect(await isPortFree({ port: 5173 })).toBe(false);

      // Ctrl-C: SIGINT to the script; anvil, the indexer and the web app must be gone with it.
      started.child.kill("SIGINT");
      await waitForExit(started.child);
      expect(started.child.exitCode).toBe(0);
      expect(await isPortFree({ port: anvilPort })).toBe(true);
      expect(await isPortFree({ port: apiPort })).toBe(true);
      expect(await isPortFree({ port: webPort })).toBe(true);
    } finally {
      await defaultWeb.stop();
    }
  });

  test("a dev run that dies early fails the wait at once, not at its timeout", async () => {
    const started = startDev({ PGLITE_DIRECTORY: pgliteDirectory }, ["--web-port", "webby"]);
    const since = Date.now();
    await expect(
      waitFor({
        what: "npm run dev to report it is up",
        timeoutMs: 100_000,
        failFast: () => assertRunning({ child: started.child, what: "npm run dev", output: started.output }),
        check: () => (started.output().includes("Jenga Index is up.") ? true : undefined),
      }),
    ).rejects.toThrow('npm run dev exited with code 1:\nerror: --web-port must be a port number between 1 and 65535, got "webby".');
    expect(Date.now() - since).toBeLessThan(30_000);
  });

  test("a busy port is a clear error naming it, and nothing starts", async () => {
    const [anvilPort, apiPort, webPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(apiPort, "127.0.0.1", resolve));
    try {
      // Ports from the environment this time (the other test uses the flags).
      const started = startDev({ ANVIL_PORT: String(anvilPort), PORT: String(apiPort), WEB_PORT: String(webPort), PGLITE_DIRECTORY: pgliteDirectory });
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
