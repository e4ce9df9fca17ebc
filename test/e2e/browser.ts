/**
 * Debian's Chromium driven by playwright-core, with the flags this machine needs (no sandbox as
 * root, no background networking to Google's hosts) and a fresh profile per launch.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { projectRoot } from "../../scripts/lib/chama";
import { JengaError } from "../../common/errors";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where screenshots go (gitignored; CI keeps it as an artifact). */
export const RESULTS_DIR = path.join(projectRoot, "test-results");

export class MissingBrowserError extends JengaError {
  override name = "MissingBrowserError";
  override readonly expected = true;
}

/** Throws, naming the fix, when Chromium is not installed. The browser tests never skip. */
export function assertChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  throw new MissingBrowserError(
    `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it. ` +
      "Install Debian's package with `apt-get update && apt-get install -y chromium` " +
      "(or point CHROMIUM_PATH at a Chromium binary). `npx playwright install` does not work on these machines.",
  );
}

/** Launches headless Chromium with a fresh profile; the teardown closes it and deletes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  assertChromium();
  const profile = mkdtempSync(path.join(os.tmpdir(), "jenga-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  return path.join(RESULTS_DIR, `${name}.png`);
}

