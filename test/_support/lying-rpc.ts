/** A faulty JSON-RPC provider for the tests: a proxy that drops logs or refuses wide ranges. */
import { createServer } from "node:http";
import { getFreePort } from "../../scripts/lib/ports";

/** A JSON-RPC proxy in front of `target` that answers like it, except that eth_getLogs results
 * lose the logs of `dropTransaction` (a faulty provider), and eth_getLogs over more than
 * `maxLogRange` blocks is refused (a provider's range limit). */
export async function startLyingRpc(params: {
  target: string;
  dropTransaction?: string;
  maxLogRange?: number;
  /** Awaited before an `eth_getLogs({ blockHash })` request is forwarded: lets a test change the
   * chain while the indexer waits for a block's logs. */
  beforeBlockLogs?: (blockHash: string) => Promise<void>;
}) {
  const port = await getFreePort();
  const drop = params.dropTransaction?.toLowerCase();
  type RpcMessage = { id?: number; method?: string; params?: { fromBlock?: string; toBlock?: string; blockHash?: string }[]; result?: unknown };
  const tooWide = (request: RpcMessage) => {
    const filter = request.params?.[0];
    if (request.method !== "eth_getLogs" || params.maxLogRange === undefined || !filter?.fromBlock || !filter.toBlock) return false;
    return BigInt(filter.toBlock) - BigInt(filter.fromBlock) + 1n > BigInt(params.maxLogRange);
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      void (async () => {
        const requests = JSON.parse(body) as RpcMessage | RpcMessage[];
        const single = !Array.isArray(requests);
        const list = Array.isArray(requests) ? requests : [requests];
        for (const request of list) {
          const blockHash = request.method === "eth_getLogs" ? request.params?.[0]?.blockHash : undefined;
          if (blockHash && params.beforeBlockLogs) await params.beforeBlockLogs(blockHash);
        }
        const refused = list.filter(tooWide);
        const forwarded = list.filter((r) => !tooWide(r));
        let answers: RpcMessage[] = [];
        if (forwarded.length > 0) {
          const upstream = await fetch(params.target, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(forwarded) });
          answers = (await upstream.json()) as RpcMessage[];
        }
        const scrub = (answer: RpcMessage) => {
          const request = forwarded.find((r) => r.id === answer.id);
          return drop && request?.method === "eth_getLogs" && Array.isArray(answer.result)
            ? { ...answer, result: (answer.result as { transactionHash?: string }[]).filter((log) => log.transactionHash?.toLowerCase() !== drop) }
            : answer;
        };
        const out = [
          ...answers.map(scrub),
          ...refused.map((r) => ({ jsonrpc: "2.0", id: r.id, error: { code: -32602, message: `block range too wide (max ${params.maxLogRange})` } })),
        ];
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(single ? out[0] : list.map((r) => out.find((a) => a.id === r.id))));
      })().catch((error: unknown) => {
        res.writeHead(502);
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
