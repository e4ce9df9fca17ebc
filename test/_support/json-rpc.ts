/**
 * A minimal JSON-RPC client with batching, for the tests, the benchmarks (generating chains,
 * the floor reference) and the chaos harness. One HTTP request carries many calls; errors are
 * thrown with the method that failed.
 */
import { JengaError } from "../../common/errors";

export class JsonRpcError extends JengaError {
  override name = "JsonRpcError";
}

export type RpcCall = { method: string; params?: unknown[] };

type RpcResponse = { id: number; result?: unknown; error?: { code: number; message: string } };

/** Sends `calls` as one JSON-RPC batch and returns the results in the same order. */
export async function rpcBatch<T = unknown>(url: string, calls: RpcCall[]): Promise<T[]> {
  if (calls.length === 0) return [];
  const body = calls.map((call, id) => ({ jsonrpc: "2.0", id, method: call.method, params: call.params ?? [] }));
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new JsonRpcError(`HTTP ${response.status} from ${url} for a batch of ${calls.length}`);
  const parsed = (await response.json()) as RpcResponse[] | RpcResponse;
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const results = new Array<T>(calls.length);
  for (const item of list) {
    if (item.error) {
      throw new JsonRpcError(`${calls[item.id]?.method ?? "call"} failed: ${item.error.message} (code ${item.error.code})`);
    }
    results[item.id] = item.result as T;
  }
  return results;
}

/** Sends one JSON-RPC call. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const [result] = await rpcBatch<T>(url, [{ method, params }]);
  return result as T;
}

/** Runs `calls` in batches of `batchSize`, `concurrency` batches in flight at a time. */
export async function rpcBatched<T = unknown>(
  url: string,
  calls: RpcCall[],
  options: { batchSize?: number; concurrency?: number } = {},
): Promise<T[]> {
  const { batchSize = 500, concurrency = 4 } = options;
  const results = new Array<T>(calls.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += batchSize;
      if (start >= calls.length) return;
      const batch = await rpcBatch<T>(url, calls.slice(start, start + batchSize));
      for (let i = 0; i < batch.length; i++) results[start + i] = batch[i] as T;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
