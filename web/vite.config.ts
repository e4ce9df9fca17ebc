import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import react from "@vitejs/plugin-react";
import { type Plugin, type ResolvedConfig, defineConfig, transformWithEsbuild } from "vite";

/** The service worker's file in the build, at the app's root so its scope is the whole app. */
const SW_FILE = "sw.js";

/** Every file under `dir`, as paths relative to it with forward slashes. */
function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/**
 * The offline shell (production builds only; `vite` dev serves no worker): after the bundle is
 * written, lists every file of the build (source maps and the worker itself aside), hashes them
 * into the shell's version, and writes `sw.js` from `src/sw.ts` with both filled in. Any change
 * to any file is a new version, which the browser installs as a new worker and cache.
 */
function offlineShell(): Plugin {
  let config: ResolvedConfig;
  return {
    name: "jenga-offline-shell",
    apply: "build",
    configResolved(resolved) {
      config = resolved;
    },
    async writeBundle() {
      const outDir = path.resolve(config.root, config.build.outDir);
      const files = listFiles(outDir)
        .filter((file) => file !== SW_FILE && !file.endsWith(".map"))
        .sort();
      const hash = createHash("sha256");
      for (const file of files) hash.update(file).update("\0").update(readFileSync(path.join(outDir, file))).update("\0");
      const version = hash.digest("hex").slice(0, 16);
      const source = path.join(config.root, "src", "sw.ts");
      const worker = await transformWithEsbuild(readFileSync(source, "utf8"), source, {
        format: "iife",
        target: "es2022",
        minify: true,
        define: { __SHELL_VERSION__: JSON.stringify(version), __SHELL_FILES__: JSON.stringify(files) },
      });
      writeFileSync(path.join(outDir, SW_FILE), `// Jenga Index offline shell ${version}\n${worker.code}`);
      config.logger.info(`offline shell: ${SW_FILE} precaches ${files.length} files, version ${version}`);
    },
  };
}

/** The thin client. Its configuration (indexer URL, RPC URL, chain id, contract address)
 * arrives as VITE_* environment variables, set by `npm run dev` or by the deployer. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), offlineShell()],
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true },
});
