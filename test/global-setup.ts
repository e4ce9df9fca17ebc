/**
 * Starts a private PostgreSQL cluster for the suite (initdb + pg_ctl on a free port, in a temp
 * directory), unless JENGA_TEST_DATABASE_URL already points at one. Stops it afterwards.
 */
import { startPostgres } from "../scripts/lib/postgres";

export default async function setup() {
  if (process.env.JENGA_TEST_DATABASE_URL) return;

  const started = Date.now();
  const cluster = await startPostgres({ settings: { max_connections: "300" } });
  process.env.JENGA_TEST_DATABASE_URL = cluster.url;
  console.log(`PostgreSQL test cluster on 127.0.0.1:${cluster.port} (${Date.now() - started} ms)`);

  return () => cluster.stop();
}
