/**
 * A private PostgreSQL cluster in a temp directory on a free 127.0.0.1 port (initdb + pg_ctl),
 * for tests and the chaos harness. As root it runs as the postgres system user, since
 * PostgreSQL refuses to run as root.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getFreePort } from "./ports";

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
    `${name} not found: PostgreSQL's server binaries are needed. Install them (Debian: \`apt-get install -y postgresql\`) ` +
      "or set JENGA_TEST_DATABASE_URL to an existing database.",
  );
}

export type PostgresCluster = { url: string; stop: () => void };

/** Starts the cluster and returns its connection string (user `ponder`, database `postgres`). */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" })
      : execFileSync(bin, args, { stdio: "pipe" });

  const dir = mkdtempSync(path.join(os.tmpdir(), "jenga-pg-"));
  chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const port = await getFreePort();
  run(findPgBin("initdb"), ["-D", data, "-A", "trust", "-U", "ponder", "--no-sync"]);
  run(findPgBin("pg_ctl"), [
    "-D", data, "-l", path.join(dir, "log"), "-w",
    "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`,
    "start",
  ]);
  return {
    url: `postgresql://ponder@127.0.0.1:${port}/postgres`,
    stop: () => {
      run(findPgBin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
