/**
 * Bootstrap by discovery URL, the member side (spec bootstrap.md §3):
 * {@link joinCluster} registers this member with a discovery service and
 * returns the initial cluster once it is complete. Web-standard `fetch` only.
 */
export {
  clusterFromRegistrations,
  clusterIsFull,
  discoveryProxyUrl,
  getCluster,
  type JoinOptions,
  joinCluster,
  MAX_BACKOFF_EXPONENT,
  REQUEST_TIMEOUT_MS,
  registrationValue,
} from "./client.js";
export { DiscoveryError, type DiscoveryErrorCode } from "./errors.js";
