/**
 * The web app's bundle: a production build (`vite build web`, the project's own config, into a
 * temporary directory) and the gzipped JavaScript the first screen loads against the 150 kB
 * budget. The first screen is what the built index.html asks for, its entry `<script
 * type="module">` and any `<link rel="modulepreload">`, plus every chunk those import statically
 * (from Vite's manifest), since the browser must fetch them before the entry runs. Chunks only
 * reached through `import()` (pages other than the list, the charts, the wallet and the sync
 * engine, the review dialog) load on demand and are left out of that figure; every chunk is
 * listed with its own size.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { projectRoot } from "../scripts/lib/chama";
import { JengaError } from "../common/errors";

/** The first screen's budget: 150 kB (decimal kilobytes) of gzipped JavaScript. */
export const FIRST_SCREEN_BUDGET_BYTES = 150_000;

export type BundleChunk = {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Loaded by the first screen (entry, modulepreload, or a static import of one). */
  firstScreen: boolean;
};

export type BundleResult = {
  firstScreenGzipKiB: number;
  totalGzipKiB: number;
  budgetGzipKiB: number;
  withinBudget: boolean;
  /** Largest first. */
  chunks: BundleChunk[];
};

export class BundleShapeError extends JengaError {
  override name = "BundleShapeError";
}

/** The JavaScript files the built index.html loads by itself: module scripts and modulepreloads,
 * as paths relative to the build's root. */
export function htmlScripts(html: string): string[] {
  const files = new Set<string>();
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isModuleScript = /^<script\b/i.test(tag) && /\btype\s*=\s*["']module["']/i.test(tag);
    const isPreload = /^<link\b/i.test(tag) && /\brel\s*=\s*["']modulepreload["']/i.test(tag);
    if (!isModuleScript && !isPreload) continue;
    const url = /\b(?:src|href)\s*=\s*["']([^"']+)["']/i.exec(tag)?.[1];
    if (url && !/^[a-z]+:\/\//i.test(url)) files.add(url.replace(/^\.?\//, ""));
  }
  return [...files];
}

/** Vite's manifest: one entry per chunk, with the chunk keys it imports statically. */
export type ViteManifest = Record<string, { file: string; imports?: string[]; dynamicImports?: string[]; isEntry?: boolean }>;

/** `start` files and every file they import statically, through the manifest. */
export function staticClosure(params: { manifest: ViteManifest; start: string[] }): string[] {
  const byFile = new Map(Object.entries(params.manifest).map(([key, chunk]) => [chunk.file, { key, chunk }]));
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const key of byFile.get(file)?.chunk.imports ?? []) {
      const imported = params.manifest[key];
      if (!imported) throw new BundleShapeError(`The manifest's ${file} imports ${key}, which it does not list.`);
      visit(imported.file);
    }
  };
  for (const file of params.start) visit(file);
  return [...seen];
}

function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

/** Builds the web app and measures its JavaScript. */
export async function runBundle(params: { log: (line: string) => void }): Promise<BundleResult> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "jenga-bundle-"));
  try {
    params.log("Bundle: building the web app (vite build web)");
    await build({
      configFile: path.join(projectRoot, "web", "vite.config.ts"),
      logLevel: "warn",
      build: { outDir, emptyOutDir: true, manifest: "manifest.json" },
    });
    const html = readFileSync(path.join(outDir, "index.html"), "utf8");
    const manifest = JSON.parse(readFileSync(path.join(outDir, "manifest.json"), "utf8")) as ViteManifest;
    const start = htmlScripts(html);
    if (start.length === 0) throw new BundleShapeError("The built index.html loads no module script.");
    const firstScreen = new Set(staticClosure({ manifest, start }));
    const chunks = filesUnder(outDir)
      .filter((file) => file.endsWith(".js"))
      .map((file) => {
        const code = readFileSync(path.join(outDir, file));
        return { file, bytes: code.length, gzipBytes: gzipSync(code).length, firstScreen: firstScreen.has(file) };
      })
      .sort((a, b) => b.gzipBytes - a.gzipBytes);
    for (const file of firstScreen) {
      if (!chunks.some((c) => c.file === file)) throw new BundleShapeError(`The first screen loads ${file}, which the build did not write.`);
    }
    const firstScreenBytes = chunks.filter((c) => c.firstScreen).reduce((sum, c) => sum + c.gzipBytes, 0);
    const totalBytes = chunks.reduce((sum, c) => sum + c.gzipBytes, 0);
    return {
      firstScreenGzipKiB: kib(firstScreenBytes),
      totalGzipKiB: kib(totalBytes),
      budgetGzipKiB: kib(FIRST_SCREEN_BUDGET_BYTES),
      withinBudget: firstScreenBytes <= FIRST_SCREEN_BUDGET_BYTES,
      chunks,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
