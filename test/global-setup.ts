/**
 * Starts a private PostgreSQL cluster for the suite unless JENGA_TEST_DATABASE_URL already
 * points at one, and stops it afterwards.
 */
import { startPostgresCluster } from "../scripts/lib/postgres";

export default async function setup() {
  if (process.env.JENGA_TEST_DATABASE_URL) return;
  const started = Date.now();
  const cluster = await startPostgresCluster();
  process.env.JENGA_TEST_DATABASE_URL = cluster.url;
  console.log(`PostgreSQL test cluster on ${new URL(cluster.url).host} (${Date.now() - started} ms)`);
  return () => cluster.stop();
}
