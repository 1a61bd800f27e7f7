/**
 * `@cairn/discovery`: the discovery service etcd and Cairn members bootstrap
 * from (bootstrap.md §3). Runtime-neutral: the Hono app, its embedded store,
 * token GC and rate limiting. The Node listener is `@cairn/discovery/node`.
 * See README.md.
 */
export {
  createDiscoveryApp,
  DEFAULT_CLUSTER_SIZE,
  type DiscoveryAppOptions,
  MAX_CLUSTER_SIZE,
  MAX_VALUE_BYTES,
} from "./app.js";
export {
  type DiscoveryBackend,
  EmbeddedStore,
  EmbeddedStoreError,
  type EmbeddedStoreOptions,
} from "./backend.js";
export { DEFAULT_TOKEN_TTL_MS, SweepError, type SweepOptions, sweepTokens } from "./gc.js";
export { jsonLogger, type LogLevel } from "./log.js";
export { RateLimiter, type RateLimitOptions } from "./rate-limit.js";
export { newToken, TOKEN_PATTERN } from "./token.js";
