/** Throwaway PostgreSQL databases in a cluster, for the tests and the benchmarks: one per
 * chain or per run, so no two ever share Ponder's sync cache. */
import pg from "pg";

let counter = 0;

/** Runs one statement on a cluster's maintenance database. */
async function adminQuery(clusterUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database named `<prefix>_<pid>_<time>_<n>` in the cluster; drop() removes
 * it, closing any connection still open to it. */
export async function createDatabase(params: { clusterUrl: string; prefix: string }): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${params.prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await adminQuery(params.clusterUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(params.clusterUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(params.clusterUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
