/**
 * The wire contract between Cairn members on the peer port. Consensus traffic
 * goes member to member over HTTP (never through NATS, see design.md).
 */

/** Paths served on the peer URLs. */
export const PEER_PATHS = {
  /** POST: a body of length-prefixed encoded raft messages. */
  messages: "/raft/messages",
  /**
   * GET: a response body that stays open, on which the answering member
   * writes its messages to the caller as length-prefixed frames.
   */
  stream: "/raft/stream",
  /** POST: one encoded snapshot message frame, then the raw state image. */
  snapshot: "/raft/snapshot",
  /** GET: the cluster's members as JSON, as etcd's peer handler serves it. */
  members: "/members",
  /** GET: server and cluster version. */
  version: "/version",
} as const;

/** Headers every raft request carries, so a member refuses strangers. */
export const PEER_HEADERS = {
  clusterId: "x-etcd-cluster-id",
  from: "x-server-from",
  to: "x-server-to",
} as const;

/** Lowercase hex without padding: how etcd prints member and cluster ids. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** Parses a hex id as printed by {@link hexId}; undefined when it is not one. */
export function parseHexId(text: string | null | undefined): bigint | undefined {
  if (text == null || !/^[0-9a-fA-F]{1,16}$/.test(text)) return undefined;
  return BigInt(`0x${text}`);
}
