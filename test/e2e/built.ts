/**
 * The web app as it ships: `vite build` of web/ (the same config as `npm run web:build`, so with
 * the offline shell's service worker) into a temporary folder, served by `vite preview` on
 * 127.0.0.1. The server can be stopped and started again on the same port, so a test can take
 * the app's own origin away while the browser is offline, and a new build can be deployed in
 * its place (a new version of the shell).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type PreviewServer, build, preview } from "vite";
import { projectRoot } from "../../scripts/lib/chama";
import { type WebConfig, setViteEnv } from "../../scripts/lib/web";

export type BuiltWeb = {
  url: string;
  /** The build's folder. */
  outDir: string;
  /** Stops serving (the origin refuses connections); start() serves the same build again. */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** Builds the app again for `config` and serves the new build in place of the old one. */
  deploy: (config: WebConfig) => Promise<void>;
  /** Stops serving and deletes the builds. */
  close: () => Promise<void>;
};

const CONFIG_FILE = path.join(projectRoot, "web", "vite.config.ts");

/** Sets the VITE_* variables (read at build time) and builds the app into a new temporary folder. */
async function buildApp(config: WebConfig): Promise<string> {
  setViteEnv(config);
  const outDir = mkdtempSync(path.join(os.tmpdir(), "jenga-web-dist-"));
  // As `npm run web:build` builds it: vitest sets NODE_ENV=test, and Vite would then build a
  // non-production app (import.meta.env.PROD false: no worker, React's development build).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ configFile: CONFIG_FILE, mode: "production", build: { outDir, emptyOutDir: true }, logLevel: "warn", clearScreen: false });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** Builds the app for `config` and serves it on `port`. */
export async function startBuiltWeb(params: { port: number; config: WebConfig }): Promise<BuiltWeb> {
  const { port } = params;
  const outDirs = [await buildApp(params.config)];
  let server: PreviewServer | undefined;
  const start = async () => {
    if (server) return;
    server = await preview({
      configFile: CONFIG_FILE,
      build: { outDir: outDirs.at(-1) },
      preview: { port, host: "127.0.0.1", strictPort: true },
      logLevel: "warn",
      clearScreen: false,
    });
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    await running?.close();
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    get outDir() {
      return outDirs.at(-1)!;
    },
    stop,
    start,
    deploy: async (config) => {
      outDirs.push(await buildApp(config));
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
