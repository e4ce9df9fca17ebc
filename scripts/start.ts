/**
 * Runs the production indexer and API (`ponder start`) against the chain the environment names,
 * after checking the configuration and the port.
 *
 *   npm start -- --port 42069 [--hostname 0.0.0.0] [--schema jenga] [--views-schema jenga_live]
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
      port: { type: "string", short: "p", default: process.env.PORT ?? "42069" },
      hostname: { type: "string", short: "H", default: "0.0.0.0" },
      schema: { type: "string", default: process.env.DATABASE_SCHEMA ?? "jenga" },
      "views-schema": { type: "string" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ConfigError(`--port must be a port number between 1 and 65535, got "${values.port}".`);
  }
  // Validate the environment here too, so a bad variable fails before Ponder boots.
  const env = loadEnv({ root: projectRoot });
  await assertPortFree({ port, host: values.hostname, what: "the indexer's API", variable: "--port" });

  const args = ["start", "--port", String(port), "--hostname", values.hostname, "--schema", values.schema];
  if (values["views-schema"]) args.push("--views-schema", values["views-schema"]);
  console.log(`Indexing chain ${env.chainId} (Chama ${env.chamaAddress} from block ${env.startBlock}) into schema "${values.schema}" on ${env.databaseUrl ? "PostgreSQL" : "PGlite"}.`);
  const ponder = spawnPonder({ args });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => ponder.kill(signal));
  await waitForExit(ponder);
  process.exitCode = ponder.exitCode ?? 1;
});
