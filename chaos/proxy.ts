/**
 * A fault-injecting JSON-RPC proxy for the chaos harness. It sits between the indexer and anvil
 * on 127.0.0.1 and, at a configurable rate, answers a request with a fault instead of
 * forwarding it: 5xx, 429, a timeout, a dropped connection, a slow answer, or a lagging head
 * (eth_blockNumber / latest block a few blocks behind).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Random } from "../scripts/lib/random";
import { rpc } from "../test/_support/json-rpc";

export const FAULT_KINDS = ["http5xx", "http429", "timeout", "drop", "slow", "lag"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Relative weights: timeouts cost the indexer a 10 s wait each, so they are rare. */
const WEIGHTS: Record<FaultKind, number> = { http5xx: 5, http429: 4, timeout: 1, drop: 4, slow: 5, lag: 4 };

export type FaultProxy = {
  url: string;
  /** Probability that a request gets a fault; 0 turns faults off. */
  setFaultRate: (rate: number) => void;
  /** Faults injected so far, by kind. */
  counts: () => Record<FaultKind, number>;
  stop: () => Promise<void>;
};

type RpcRequest = { jsonrpc: "2.0"; id: number | string | null; method: string; params?: unknown[] };

async function forward(target: string, body: string): Promise<{ status: number; body: string }> {
  const response = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: response.status, body: await response.text() };
}


/** Answers a head query as if the node were `lag` blocks behind. */
async function lagging(target: string, request: RpcRequest, lag: number): Promise<string | undefined> {
  const head = BigInt(await rpc<string>(target, "eth_blockNumber"));
  const behind = head > BigInt(lag) ? head - BigInt(lag) : 0n;
  if (request.method === "eth_blockNumber") {
    return JSON.stringify({ jsonrpc: "2.0", id: request.id, result: `0x${behind.toString(16)}` });
  }
  const [tag, full] = request.params ?? [];
  if (request.method === "eth_getBlockByNumber" && tag === "latest") {
    const block = await rpc<unknown>(target, "eth_getBlockByNumber", [`0x${behind.toString(16)}`, full ?? false]);
    return JSON.stringify({ jsonrpc: "2.0", id: request.id, result: block });
  }
  return undefined;
}

/** Starts the proxy on a free 127.0.0.1 port in front of `target`. */
export async function startFaultProxy(params: { target: string; random: Random; timeoutMs?: number }): Promise<FaultProxy> {
  const { target, random, timeoutMs = 11_000 } = params;
  let rate = 0;
  const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const totalWeight = FAULT_KINDS.reduce((sum, k) => sum + WEIGHTS[k], 0);
  const pickFault = (): FaultKind => {
    let n = random.float() * totalWeight;
    for (const kind of FAULT_KINDS) {
      n -= WEIGHTS[kind];
      if (n < 0) return kind;
    }
    return "slow";
  };
  const timers = new Set<NodeJS.Timeout>();
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString();
        try {
          const fault = rate > 0 && random.chance(rate) ? pickFault() : undefined;
          if (fault === "http5xx") {
            counts.http5xx += 1;
            res.writeHead(503, { "content-type": "text/plain" }).end("upstream unavailable (injected)");
            return;
          }
          if (fault === "http429") {
            counts.http429 += 1;
            res.writeHead(429, { "content-type": "text/plain", "retry-after": "1" }).end("rate limited (injected)");
            return;
          }
          if (fault === "drop") {
            counts.drop += 1;
            req.socket.destroy();
            return;
          }
          if (fault === "timeout") {
            counts.timeout += 1;
            await delay(timeoutMs);
            req.socket.destroy();
            return;
          }
          if (fault === "slow") {
            counts.slow += 1;
            await delay(random.between(200, 1_500));
          }
          if (fault === "lag") {
            const request = JSON.parse(body) as RpcRequest | RpcRequest[];
            if (!Array.isArray(request)) {
              const answer = await lagging(target, request, random.between(1, 3));
              if (answer !== undefined) {
                counts.lag += 1;
                res.writeHead(200, { "content-type": "application/json" }).end(answer);
                return;
              }
            }
          }
          const upstream = await forward(target, body);
          res.writeHead(upstream.status, { "content-type": "application/json" }).end(upstream.body);
        } catch (error) {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy error: ${String(error)}`);
        }
      })();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setFaultRate: (r) => {
      rate = r;
    },
    counts: () => ({ ...counts }),
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
