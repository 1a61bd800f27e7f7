/**
 * Bootstrap by discovery URL, the member side (spec bootstrap.md §3):
 * {@link joinCluster} registers this member with a discovery service and
 * returns the initial cluster once it is complete. Web-standard `fetch` only.
 * Bootstrap by DNS SRV (§4): {@link clusterFromSrv} builds the initial
 * cluster from SRV records, through the runtime's resolver.
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
export {
  DiscoveryError,
  type DiscoveryErrorCode,
  SrvError,
  type SrvErrorCode,
} from "./errors.js";
export {
  clusterFromSrv,
  type SrvBootstrapOptions,
  type SrvCluster,
  srvRecordName,
} from "./srv.js";
