/**
 * etcd 3.4's v2 proxy (spec bootstrap.md §3.4): a process that holds no data
 * and serves the client API by forwarding to the cluster's client URLs.
 */
export { hasProxyData } from "./cluster.js";
export { type RunningProxy, type StartProxyOptions, startProxy } from "./start.js";
