import { readFile } from "node:fs/promises";
import { serve } from "@hono/node-server";
import type { Listener, RuntimeAdapter } from "./types.js";

/** Node.js: @hono/node-server for HTTP, process for the rest. */
export const nodeRuntime: RuntimeAdapter = {
  name: "node",
  argv: () => process.argv.slice(2),
  env: () => process.env,
  serve(handler, { hostname, port }) {
    return new Promise<Listener>((resolve, reject) => {
      const server = serve({ fetch: handler, hostname, port }, () =>
        resolve({
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        }),
      );
      server.once("error", reject);
    });
  },
  onShutdown(fn) {
    let called = false;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        if (called) return;
        called = true;
        fn(signal);
      });
    }
  },
  writeStdout: (text) => void process.stdout.write(text),
  writeStderr: (text) => void process.stderr.write(text),
  readTextFile: (path) => readFile(path, "utf8"),
  exit: (code) => process.exit(code),
};
