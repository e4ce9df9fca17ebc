/**
 * Runs an API-only replica (`ponder serve`): GraphQL, SQL over HTTP, /sync-health and
 * POST /reconcile, read from the same PostgreSQL the indexer writes. Start as many as needed
 * behind any HTTP load balancer; they never write.
 *
 *   npm run serve -- --port 42070 [--hostname 0.0.0.0] [--schema jenga_live]
 *
 * --schema is the schema to read: by default the indexer's stable views schema
 * (DATABASE_VIEWS_SCHEMA, else "jenga_live"), so a rebuild switches replicas without a restart.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadEnv } from "../config/env";
import { projectRoot } from "./lib/chama";
import { runMain } from "./lib/main";
import { spawnPonder } from "./lib/ponder";
import { assertPortFree } from "./lib/ports";
import { waitForExit } from "./lib/processes";

await runMain(async () => {
  const { values } = parseArgs({
    options: {
      port: { type: "string", short: "p", default: process.env.PORT ?? "42070" },
      hostname: { type: "string", short: "H", default: "0.0.0.0" },
      schema: { type: "string", default: process.env.DATABASE_VIEWS_SCHEMA ?? "jenga_live" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ConfigError(`--port must be a port number between 1 and 65535, got "${values.port}".`);
  }
  const env = loadEnv({ root: projectRoot });
  if (!env.databaseUrl) {
    throw new ConfigError(
      "npm run serve needs DATABASE_URL: a replica reads the indexer's PostgreSQL. PGlite can be opened by one process only (the indexer's own API serves it).",
    );
  }
  await assertPortFree({ port, host: values.hostname, what: "the replica's API", variable: "--port" });
  console.log(`Serving schema "${values.schema}" (read-only) on ${values.hostname}:${port}.`);
  const ponder = spawnPonder({ args: ["serve", "--port", String(port), "--hostname", values.hostname, "--schema", values.schema] });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => ponder.kill(signal));
  await waitForExit(ponder);
  process.exitCode = ponder.exitCode ?? 1;
});
