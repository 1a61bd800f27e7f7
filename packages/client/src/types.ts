/** Shapes of the v2 API as the client hands them out (etcd-v2-api.md §2, §9, §10). */

/** A key or directory. Fields are absent exactly when the server omits them. */
export interface Node {
  /** Absolute key; the root directory has no key on the wire and gets `"/"` here. */
  readonly key: string;
  /** Value of a file (absent on directories). */
  readonly value?: string;
  /** True for directories. */
  readonly dir?: boolean;
  /** RFC 3339 expiry time, when the node has a TTL. */
  readonly expiration?: string;
  /** Remaining seconds to live (absent when none, or when the server computed 0). */
  readonly ttl?: number;
  /** Children of a directory listing, when there are any. */
  readonly nodes?: readonly Node[];
  readonly createdIndex: number;
  readonly modifiedIndex: number;
}

/** The actions a keys response or watch event can carry. */
export type Action =
  | "get"
  | "set"
  | "create"
  | "update"
  | "compareAndSwap"
  | "delete"
  | "compareAndDelete"
  | "expire";

/** A successful keys response (or one watch event) plus its headers. */
export interface KeysResponse {
  readonly action: Action;
  readonly node: Node;
  readonly prevNode?: Node;
  /**
   * `X-Etcd-Index`: the store index (of the write; of the store for a get; at
   * registration for a watch, so it can be lower than the event's index).
   */
  readonly index: number;
  /** `X-Raft-Index`, when the server sent it. */
  readonly raftIndex?: number;
  /** `X-Raft-Term`, when the server sent it. */
  readonly raftTerm?: number;
  /** `X-Etcd-Cluster-Id` (hex), when the server sent it. */
  readonly clusterId?: string;
}

/**
 * A cluster member. `id` is kept as the lowercase hex string the server sends
 * (64-bit, printed without padding): etcdctl prints it verbatim, and
 * `BigInt("0x" + id)` gives the number when one is needed.
 */
export interface Member {
  readonly id: string;
  /** Empty for a member that was added but has not started yet. */
  readonly name: string;
  readonly peerURLs: readonly string[];
  /** Empty for a member that was added but has not started yet. */
  readonly clientURLs: readonly string[];
}

/** `GET /version`. */
export interface VersionInfo {
  readonly etcdserver: string;
  readonly etcdcluster: string;
}

/** `GET /health`: `health` is `true` when the member reports a leader. */
export interface HealthInfo {
  readonly health: boolean;
  /** HTTP status of the answer (200 healthy, 503 without leader). */
  readonly status: number;
}

/** `GET /v2/stats/self`. */
export interface SelfStats {
  readonly name: string;
  readonly id: string;
  readonly state: string;
  readonly startTime: string;
  readonly leaderInfo: {
    readonly leader: string;
    readonly uptime: string;
    readonly startTime: string;
  };
  readonly recvAppendRequestCnt: number;
  readonly sendAppendRequestCnt: number;
  readonly recvPkgRate?: number;
  readonly recvBandwidthRate?: number;
  readonly sendPkgRate?: number;
  readonly sendBandwidthRate?: number;
}

/** `GET /v2/stats/leader` (answered only by the leader). */
export interface LeaderStats {
  readonly leader: string;
  readonly followers: Readonly<
    Record<
      string,
      {
        readonly latency: {
          readonly current: number;
          readonly average: number;
          readonly standardDeviation: number;
          readonly minimum: number;
          readonly maximum: number;
        };
        readonly counts: { readonly fail: number; readonly success: number };
      }
    >
  >;
}

/** `GET /v2/stats/store`: operation counters of the v2 store. */
export type StoreStats = Readonly<Record<string, number>>;

/** A request as it is about to be sent; handed to the `onRequest` hook (e.g. for `--debug`). */
export interface RequestInfo {
  readonly method: string;
  /** Full URL including the query string. */
  readonly url: string;
  /** Request body, when there is one (form-encoded or JSON). */
  readonly body?: string;
}
