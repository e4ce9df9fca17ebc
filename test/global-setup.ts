/**
 * Starts a private PostgreSQL cluster for the suite (initdb + pg_ctl on a free port, in a temp
 * directory), unless JENGA_TEST_DATABASE_URL already points at one. Stops it afterwards.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getFreePort } from "../scripts/lib/ports";

function findPgBin(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort().reverse()) {
      const candidate = path.join(root, version, "bin", name);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(
    `${name} not found: the tests need PostgreSQL's server binaries. Install them (Debian: \`apt-get install -y postgresql\`) ` +
      "or set JENGA_TEST_DATABASE_URL to an existing database.",
  );
}

export default async function setup() {
  if (process.env.JENGA_TEST_DATABASE_URL) return;

  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: run it as the postgres system user then.
  const run = (bin: string, args: string[]) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" }) : execFileSync(bin, args, { stdio: "pipe" });

  const dir = mkdtempSync(path.join(os.tmpdir(), "jenga-pg-"));
  chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const port = await getFreePort();
  const started = Date.now();
  run(findPgBin("initdb"), ["-D", data, "-A", "trust", "-U", "ponder", "--no-sync"]);
  run(findPgBin("pg_ctl"), [
    "-D", data, "-l", path.join(dir, "log"), "-w",
    "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    "start",
  ]);
  process.env.JENGA_TEST_DATABASE_URL = `postgresql://ponder@127.0.0.1:${port}/postgres`;
  console.log(`PostgreSQL test cluster on 127.0.0.1:${port} (${Date.now() - started} ms)`);

  return () => {
    run(findPgBin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  };
}
