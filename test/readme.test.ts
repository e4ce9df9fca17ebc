/**
 * The README's example GraphQL and SQL queries run against a real indexer over seeded demo
 * data and return rows, so the docs cannot drift from the API.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createClient, sql } from "@ponder/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as schema from "../ponder.schema";
import { projectRoot } from "../scripts/lib/chama";
import { seedDemo } from "../scripts/seed";
import { type Chain, deploy, startChain } from "./_support/chain";
import { type Indexer, startIndexer } from "./_support/indexer";

const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
const blocks = (lang: string) => [...readme.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!.trim());

/** Counts the non-empty lists and objects in a GraphQL answer. */
function countData(value: unknown): number {
  if (Array.isArray(value)) return value.length > 0 ? 1 + value.reduce((n: number, v) => n + countData(v), 0) : 0;
  if (value && typeof value === "object") return Object.values(value).reduce((n: number, v) => n + countData(v), 1);
  return 0;
}

describe("README examples", () => {
  let chain: Chain;
  let indexer: Indexer;

  beforeAll(async () => {
    chain = await startChain();
    const { address, startBlock } = await deploy(chain);
    await seedDemo({ rpcUrl: chain.rpcUrl, address });
    indexer = await startIndexer({ chain, address, startBlock, database: "pglite" });
    await indexer.waitForBlock();
  });
  afterAll(async () => {
    await indexer?.stop();
    await chain?.stop();
  });

  test("there are examples to run", () => {
    expect(blocks("graphql").length).toBeGreaterThanOrEqual(4);
    expect(blocks("sql").length).toBeGreaterThanOrEqual(2);
  });

  test.each(blocks("graphql"))("GraphQL example runs and returns data: %s", async (query) => {
    const result = await indexer.graphql<Record<string, unknown>>(query);
    expect(result.errors).toBeUndefined();
    for (const [field, value] of Object.entries(result.data ?? {})) {
      expect(value, field).not.toBeNull();
      const items = (value as { items?: unknown[] }).items;
      if (items) expect(items.length, field).toBeGreaterThan(0);
    }
    expect(countData(result.data)).toBeGreaterThan(2);
  });

  test.each(blocks("sql"))("SQL example runs and returns rows: %s", async (query) => {
    const client = createClient(`${indexer.url}/sql`, { schema });
    const rows = await client.db.execute(sql.raw(query));
    expect(rows.length).toBeGreaterThan(0);
  });
});
