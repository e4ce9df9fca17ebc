/**
 * A real HTTP webhook receiver on 127.0.0.1 at a free port, for the alert tests: it records
 * every delivery, can fail the next N of them (to prove retries) or hang (to prove timeouts),
 * and says which alerts it accepted (to prove there are no duplicates).
 */
import { createServer } from "node:http";
import type { AlertPayload } from "../../common/ops-api";
import { getFreePort } from "../../scripts/lib/ports";

export type Delivery = { at: number; status: number; headers: Record<string, string | string[] | undefined>; body: AlertPayload };

export type Webhook = {
  url: string;
  /** Every delivery, in order, with the status it was answered. */
  deliveries: Delivery[];
  /** Deliveries answered 2xx. */
  accepted: () => AlertPayload[];
  /** Answers the next `n` deliveries with `status` (default 503). */
  fail: (n: number, status?: number) => void;
  /** Answers the next deliveries with these statuses, in order (then 204). */
  answer: (statuses: number[]) => void;
  /** Leaves deliveries unanswered until `hang(false)`. */
  hang: (on: boolean) => void;
  stop: () => Promise<void>;
};

export async function startWebhook(): Promise<Webhook> {
  const port = await getFreePort();
  const deliveries: Delivery[] = [];
  let planned: number[] = [];
  let hanging = false;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      if (hanging) return;
      const status = planned.shift() ?? 204;
      deliveries.push({ at: Date.now(), status, headers: req.headers, body: JSON.parse(text) as AlertPayload });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-token`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status < 300).map((d) => d.body),
    fail: (n, status = 503) => {
      planned = Array.from({ length: n }, () => status);
    },
    answer: (statuses) => {
      planned = [...statuses];
    },
    hang: (on) => {
      hanging = on;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
