import { createKvApi } from "../../src/app.js";
import { createKeysRoute, type KeysRoute } from "../../src/keys-route.js";
import { LocalBackend } from "../../src/local-backend.js";
import { type GoServeFetch, serveLikeGo } from "../../src/node/serve.js";

/** A running Cairn v2 API served by a {@link LocalBackend}. */
export interface CairnV2 {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `createKvApi(new LocalBackend(...))` on 127.0.0.1 and a free port
 * (the kernel picks it: no race with other tests). The member advertises the
 * URL it is served on as its client URL, as etcd does.
 */
export async function startCairnV2(
  options: { historySize?: number; cors?: string[] } = {},
): Promise<CairnV2> {
  let fetch: GoServeFetch = () => new Response(null, { status: 503 });
  let keys: KeysRoute = () => undefined;
  // Served as the member serves it: plain key requests through the keys
  // route, the rest through the app.
  const served = await serveLikeGo((req, env) => fetch(req, env), { keys: (call) => keys(call) });
  const url = `http://127.0.0.1:${served.port}`;
  const backend = new LocalBackend({
    clientURLs: [url],
    peerURLs: ["http://127.0.0.1:2380"],
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
  });
  const apiOptions = options.cors === undefined ? {} : { cors: options.cors };
  const app = createKvApi(backend, apiOptions);
  fetch = (req, env) => app.fetch(req, env);
  keys = createKeysRoute(backend, apiOptions);
  return {
    url,
    async stop() {
      backend.close();
      await served.close();
    },
  };
}
