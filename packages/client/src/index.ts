/**
 * `@cairn/client`: a typed client for the etcd v2 HTTP API, served by Cairn
 * and by etcd 3.x with `--enable-v2`. Web-standard APIs only (fetch,
 * AbortSignal, URL, TextEncoder), so the same code runs on Node, Bun and Deno.
 */

import { Client, type ClientOptions } from "./client.js";

export {
  type CallOptions,
  Client,
  type ClientOptions,
  type ClientRequest,
  type DeleteOptions,
  type DirOptions,
  decodeKeysResponse,
  EmptyBodyError,
  type FetchLike,
  type GetOptions,
  parseEndpoints,
  type RawResponse,
  type SetOptions,
} from "./client.js";
export { apiUrl, encodeValues, escapePath, goQuote, keysUrl, queryEscape } from "./encoding.js";
export {
  ClientAbortedError,
  ClientTimeoutError,
  ClusterUnavailableError,
  EndpointError,
  EtcdError,
  type EtcdErrorBody,
  EventIndexClearedError,
  etcdErrorFromBody,
  HttpStatusError,
  InvalidArgumentError,
  InvalidResponseError,
  NoEndpointsError,
} from "./errors.js";
export { describeFetchError, hostPort, type NetFailure } from "./neterror.js";
export type {
  Action,
  HealthInfo,
  KeysResponse,
  LeaderStats,
  Member,
  Node,
  RequestInfo,
  SelfStats,
  StoreStats,
  VersionInfo,
} from "./types.js";
export { Watcher, type WatchOptions } from "./watch.js";

/** Creates a {@link Client}; shorthand for `new Client(options)`. */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}
