/**
 * Who runs the follower. With replicas on one PostgreSQL every process accepts intake and
 * serves reads, but exactly one follows the chain: the one holding a session-level advisory
 * lock on its own connection. The others try again every `retryMs`; when the holder dies its
 * connection closes, PostgreSQL releases the lock and the next try takes it. With the embedded
 * default the ledger's PGlite directory belongs to one process, which always leads.
 */
import pg from "pg";
import { errorMessage } from "../common/errors";

export type Leadership = {
  isLeader: () => boolean;
  /** Starts trying; `onChange` is called with true when this process takes the lead and with
   * false when it loses it (its lock connection broke). */
  start: (onChange: (leader: boolean) => void) => void;
  stop: () => Promise<void>;
};

/** The embedded ledger: one process, always the leader. */
export function soleLeadership(): Leadership {
  let leader = false;
  return {
    isLeader: () => leader,
    start: (onChange) => {
      leader = true;
      onChange(true);
    },
    stop: async () => {
      leader = false;
    },
  };
}

/** The advisory lock's key: one follower per ledger schema. */
export const followerLockName = (schema: string) => `jenga-ledger-follower:${schema}`;

/** Leadership by `pg_try_advisory_lock` on a connection of its own. While leading it checks
 * the connection every `retryMs` too: a broken one means the lock is gone. */
export function advisoryLeadership(params: { databaseUrl: string; schema: string; retryMs: number; log?: (line: string) => void }): Leadership {
  let leader = false;
  let stopped = true;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onChange: (leader: boolean) => void = () => undefined;
  let lastError: string | undefined;

  const lose = (why: string) => {
    const c = client;
    client = undefined;
    void c?.end().catch(() => undefined);
    if (leader) {
      leader = false;
      (params.log ?? console.warn)(`Transaction ledger: this process no longer runs the follower (${why}); another replica takes over.`);
      onChange(false);
    }
  };

  const attempt = async () => {
    try {
      if (!client) {
        const c = new pg.Client({ connectionString: params.databaseUrl, application_name: "jenga-ledger-follower" });
        c.on("error", (error) => lose(`its lock connection broke: ${errorMessage(error)}`));
        await c.connect();
        if (stopped) {
          await c.end();
          return;
        }
        client = c;
      }
      if (leader) {
        await client.query("SELECT 1");
        return;
      }
      const rows = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [followerLockName(params.schema)]);
      lastError = undefined;
      if (rows.rows[0]?.locked && !stopped) {
        leader = true;
        onChange(true);
      }
    } catch (error) {
      const message = errorMessage(error);
      if (message !== lastError) (params.log ?? console.warn)(`Transaction ledger: could not try for the follower's lock, retrying every ${params.retryMs} ms: ${message}`);
      lastError = message;
      lose(message);
    }
  };

  const loop = async () => {
    if (stopped) return;
    await attempt();
    if (!stopped) timer = setTimeout(() => void loop(), params.retryMs);
  };

  return {
    isLeader: () => leader,
    start: (callback) => {
      onChange = callback;
      stopped = false;
      void loop();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      leader = false;
      // Ending the session releases the lock at once, for the next replica's try.
      await c?.end().catch(() => undefined);
    },
  };
}
