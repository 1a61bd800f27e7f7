import { connect } from "node:net";
import { freePort } from "./ports.js";
import { type ManagedProcess, startProcess } from "./process.js";
import { findProgram } from "./programs.js";
import { waitFor } from "./wait.js";

/** A nats-server started by a test. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts Debian's nats-server on 127.0.0.1 and a free port, waiting until it accepts. */
export async function startNats(): Promise<NatsServer> {
  const nats = findProgram("nats-server", ["/usr/sbin/nats-server"]);
  if (nats === undefined) throw new Error("nats-server is not installed");
  const port = await freePort();
  const proc = startProcess(nats.path, {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    name: "nats-server",
  });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (proc.hasExited()) throw new Error(`nats-server exited: ${proc.stderr()}`);
        const socket = connect({ host: "127.0.0.1", port }, () => {
          socket.end();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
      }),
    { timeoutMs: 10_000, what: "nats-server accepting connections" },
  );
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: proc,
    stop: async () => {
      await proc.stop();
    },
  };
}
