/**
 * A bound on the work of one SQL-over-HTTP query on PGlite, checked before it runs.
 *
 * PGlite runs a query synchronously on the API's own thread, and nothing can stop it once it
 * started: `statement_timeout` needs a timer signal its WebAssembly build does not have, and
 * the indexer and `/health` wait on the same thread. So on PGlite a query is planned first
 * (`EXPLAIN`, on fresh statistics) and refused when the plan would visit more rows than the
 * budget. The estimate counts every row each plan node produces, times the number of times the
 * node runs: the inner side of a nested loop and a correlated subplan run once per outer row,
 * which is where cross joins and runaway subqueries blow up.
 */

type PlanNode = {
  "Node Type"?: string;
  "Plan Rows"?: number;
  "Parent Relationship"?: string;
  Plans?: PlanNode[];
};

/** Estimated row visits of an `EXPLAIN (FORMAT JSON)` plan (its top `Plan` node). */
export function estimateRowVisits(plan: PlanNode, loops = 1): number {
  const rows = Math.max(plan["Plan Rows"] ?? 1, 1);
  let total = rows * loops;
  const children = plan.Plans ?? [];
  const nestedLoop = plan["Node Type"] === "Nested Loop";
  const outer = children.find((child) => child["Parent Relationship"] === "Outer");
  const outerRows = Math.max(outer?.["Plan Rows"] ?? 1, 1);
  for (const child of children) {
    const relationship = child["Parent Relationship"];
    let childLoops = loops;
    if (nestedLoop && relationship === "Inner") childLoops = loops * outerRows;
    // A correlated subplan runs once per row of the node it filters or projects.
    else if (relationship === "SubPlan") childLoops = loops * rows;
    total += estimateRowVisits(child, childLoops);
  }
  return total;
}

/** The plan's top node from the rows `EXPLAIN (FORMAT JSON)` returns. */
export function planOf(rows: unknown[]): PlanNode {
  const cell = (rows[0] as Record<string, unknown> | undefined)?.["QUERY PLAN"];
  const parsed = (typeof cell === "string" ? JSON.parse(cell) : cell) as { Plan?: PlanNode }[] | undefined;
  const plan = parsed?.[0]?.Plan;
  if (!plan) throw new Error("EXPLAIN returned no plan.");
  return plan;
}

export const formatCount = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)} billion` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} million` : Math.round(n).toLocaleString("en-US"));
