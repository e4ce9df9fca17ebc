/**
 * The whole stack a browser test drives: Chromium (first, so a machine without it fails at once
 * with the fix), a real anvil with Chama deployed and seeded, the real indexer (`ponder start`
 * on PostgreSQL) and the web app's Vite dev server, each on a free port. stop() ends them all.
 */
import type { Address } from "viem";
import type { BrowserContext } from "playwright-core";
import { getFreePort } from "../../scripts/lib/ports";
import { type WebServer, startWeb } from "../../scripts/lib/web";
import { type Chain, CHAIN_ID, deploy, startChain } from "../_support/chain";
import { type Indexer, startIndexer } from "../_support/indexer";
import { launchBrowser } from "./browser";

export type WebStack = {
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  context: BrowserContext;
  chain: Chain;
  address: Address;
  indexer: Indexer;
  web: WebServer;
  stop: () => Promise<void>;
};

export async function startWebStack(params: {
  /** Writes the test's starting data on the chain before the indexer starts. */
  seed: (deployment: { chain: Chain; address: Address }) => Promise<void>;
  /** Extra environment for the indexer. */
  indexerEnv?: Record<string, string>;
  /** The web app's optional settings (a block explorer for transaction links). */
  webConfig?: { explorerUrl?: string };
}): Promise<WebStack> {
  const started: { stop: () => Promise<void> }[] = [];
  const stop = async () => {
    for (const part of started.reverse()) await part.stop();
  };
  try {
    const browser = await launchBrowser();
    started.push({ stop: () => browser.close() });
    const chain = await startChain();
    started.push(chain);
    const deployment = await deploy(chain);
    const address = deployment.address;
    await params.seed({ chain, address });
    const indexer = await startIndexer({ chain, address, startBlock: deployment.startBlock, database: "postgres", env: params.indexerEnv });
    started.push(indexer);
    await indexer.waitForBlock();
    const web = await startWeb({
      port: await getFreePort(),
      config: { indexerUrl: indexer.url, rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, chamaAddress: address, ...params.webConfig },
    });
    started.push({ stop: () => web.close() });
    return { browser, context: browser.context, chain, address, indexer, web, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
