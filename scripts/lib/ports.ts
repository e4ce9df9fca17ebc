import net from "node:net";
import { JengaError } from "../../common/errors";

/** A port someone else holds; the message names it, what wanted it and how to choose another. */
export class PortInUseError extends JengaError {
  override name = "PortInUseError";
  override readonly expected = true;
}

/** Resolves true when `host:port` can be bound right now. */
export function isPortFree(params: { port: number; host?: string }): Promise<boolean> {
  const { port, host = "127.0.0.1" } = params;
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws a PortInUseError naming the port, what wanted it and how to choose another. */
export async function assertPortFree(params: { port: number; host?: string; what: string; variable?: string }) {
  const { port, host = "127.0.0.1", what, variable } = params;
  if (await isPortFree({ port, host })) return;
  throw new PortInUseError(
    `Port ${port} on ${host} (${what}) is already in use. Stop whatever holds it (\`ss -ltnp 'sport = :${port}'\` shows it)` +
      (variable ? ` or choose another port with ${variable}.` : "."),
    { details: { port, host } },
  );
}

/** Picks a port the OS reports free on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("Could not read the bound port."));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
