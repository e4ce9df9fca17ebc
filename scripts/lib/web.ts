import path from "node:path";
import { createServer } from "vite";
import { projectRoot } from "./chama";
import { assertPortFree } from "./ports";

export type WebConfig = {
  indexerUrl: string;
  rpcUrl: string;
  chainId: number;
  chamaAddress: string;
  /** A block explorer's origin for transaction links (VITE_EXPLORER_URL). */
  explorerUrl?: string;
};

export type WebServer = {
  url: string;
  /** Stops the dev server. */
  close: () => Promise<void>;
};

/** Sets the VITE_* variables the app reads (Vite hands them from the environment to the app as
 * import.meta.env, in the dev server and at build time). */
export function setViteEnv(config: WebConfig): void {
  Object.assign(process.env, {
    VITE_INDEXER_URL: config.indexerUrl,
    VITE_RPC_URL: config.rpcUrl,
    VITE_CHAIN_ID: String(config.chainId),
    VITE_CHAMA_ADDRESS: config.chamaAddress,
  });
  // Optional: without it, a VITE_EXPLORER_URL set in the environment still applies.
  if (config.explorerUrl) process.env.VITE_EXPLORER_URL = config.explorerUrl;
}

/** Starts the web app's Vite dev server in this process, configured through VITE_* variables.
 * `variable` names the setting that chooses the port, for the busy-port error. */
export async function startWeb(params: { port: number; host?: string; config: WebConfig; variable?: string }): Promise<WebServer> {
  const { port, host = "127.0.0.1", config, variable = "WEB_PORT" } = params;
  await assertPortFree({ port, host, what: "the web app", variable });
  setViteEnv(config);
  const server = await createServer({
    configFile: path.join(projectRoot, "web", "vite.config.ts"),
    server: { port, host, strictPort: true },
    logLevel: "warn",
    clearScreen: false,
  });
  await server.listen();
  return { url: `http://${host}:${port}`, close: () => server.close() };
}
