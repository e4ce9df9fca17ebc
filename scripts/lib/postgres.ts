/**
 * A private PostgreSQL cluster (initdb + pg_ctl on a free port, in a temp directory), for the
 * tests and the benchmarks. PostgreSQL refuses to run as root, so as root it runs as the
 * postgres system user.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../config/env";
import { getFreePort } from "./ports";

/** Finds a PostgreSQL server binary on PATH or under /usr/lib/postgresql/<version>/bin. */
export function findPgBin(name: string): string {
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
  throw new ConfigError(
    `${name} not found: PostgreSQL's server binaries are needed. Install them (Debian: \`apt-get install -y postgresql\`) ` +
      "or point the tests at an existing database.",
  );
}

export type PostgresCluster = {
  /** Connection string of the `postgres` database, user `ponder`, no password. */
  url: string;
  port: number;
  stop: () => void;
};

/** Starts a throwaway cluster with durability off (fsync=off): for tests and benchmarks only. */
export async function startPostgres(params: { settings?: Record<string, string> } = {}): Promise<PostgresCluster> {
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) =>
    asRoot ? execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" }) : execFileSync(bin, args, { stdio: "pipe" });

  const dir = mkdtempSync(path.join(os.tmpdir(), "jenga-pg-"));
  chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const port = await getFreePort();
  const settings = { fsync: "off", max_connections: "200", ...params.settings };
  const options = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses=127.0.0.1", ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)];
  run(findPgBin("initdb"), ["-D", data, "-A", "trust", "-U", "ponder", "--no-sync"]);
  run(findPgBin("pg_ctl"), ["-D", data, "-l", path.join(dir, "log"), "-w", "-o", options.join(" "), "start"]);
  return {
    url: `postgresql://ponder@127.0.0.1:${port}/postgres`,
    port,
    stop: () => {
      run(findPgBin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
