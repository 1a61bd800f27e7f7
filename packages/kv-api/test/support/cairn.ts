import { serve } from "@hono/node-server";
import { createKvApi } from "../../src/app.js";
import { LocalBackend } from "../../src/local-backend.js";

/** A running Cairn v2 API served by a {@link LocalBackend}. */
export interface CairnV2 {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `createKvApi(new LocalBackend(...))` on 127.0.0.1 and a free port
 * (the kernel picks it: no race with other tests).
 */
export async function startCairnV2(
  options: { historySize?: number; cors?: string[] } = {},
): Promise<CairnV2> {
  const backend = new LocalBackend(
    options.historySize === undefined ? {} : { historySize: options.historySize },
  );
  const app = createKvApi(backend, options.cors === undefined ? {} : { cors: options.cors });
  const { server, port } = await new Promise<{
    server: ReturnType<typeof serve>;
    port: number;
  }>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve({ server: s, port: info.port }),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      backend.close();
      await new Promise<void>((resolve) => {
        const s = server as unknown as {
          close(cb: () => void): void;
          closeAllConnections?: () => void;
        };
        s.close(() => resolve());
        s.closeAllConnections?.();
      });
    },
  };
}
