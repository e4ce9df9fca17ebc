/**
 * Rules of the tree that a linter cannot see (the import rules are in eslint.config.js).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { projectRoot } from "../scripts/lib/chama";

describe("layout", () => {
  test("src/ outside src/api/ holds handler files only (Ponder hashes them into the build id)", () => {
    const src = path.join(projectRoot, "src");
    const entries = readdirSync(src, { withFileTypes: true }).filter((entry) => entry.name !== "api");
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.isFile(), `src/${entry.name} is a folder: only src/api/ may be`).toBe(true);
      const text = readFileSync(path.join(src, entry.name), "utf8");
      expect(text, `src/${entry.name} registers no handler: move it to config/, ops/ or common/`).toMatch(/\bponder\.on\(/);
    }
  });

  test("every error class extends JengaError (common/errors.ts), the one base class", () => {
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "*.ts", "*.tsx"], { cwd: projectRoot, encoding: "utf8" })
      .split("\n")
      .filter((file) => file && !file.startsWith("node_modules/"));
    expect(files).toContain("common/errors.ts");
    const offenders = files.filter(
      (file) => file !== "common/errors.ts" && /\bclass \w+ extends (Error|TypeError|RangeError)\b/.test(readFileSync(path.join(projectRoot, file), "utf8")),
    );
    expect(offenders, "extend JengaError from common/errors.ts instead").toEqual([]);
  });
});
