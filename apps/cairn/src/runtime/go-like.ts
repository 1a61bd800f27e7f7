import { serveLikeGo } from "@cairn/kv-api/node";
import type { RuntimeAdapter } from "./types.js";

/**
 * `RuntimeAdapter.serve` over `@cairn/kv-api/node`: answered the way etcd's
 * Go server answers at the HTTP level (unknown methods, raw non-ASCII
 * targets, missing Host, `OPTIONS *`, HTTP/1.0, 1 MiB headers, bad path
 * escapes), plain key requests straight onto the socket. Node and Bun (which
 * implements node:http and node:net itself) serve through it.
 */
export const serveGoLike: RuntimeAdapter["serve"] = async (handler, { hostname, port, keys }) => {
  const served = await serveLikeGo(
    handler,
    keys === undefined ? { hostname, port } : { hostname, port, keys },
  );
  return { close: () => served.close() };
};
