import type { Micros, V2ErrorData, V2Event, V2StoreStats, WriteRequest } from "@cairn/v2store";

/**
 * The one interface between the client API and a member (design.md,
 * "Between kv-api and the member"). Two implementations are planned: the
 * member's own server object (in-process) and a gateway that carries every
 * call over NATS. Everything that crosses it is therefore plain data (JSON
 * serialisable: no bigint, no class instances, no closures in results).
 * Member and cluster ids are lowercase hex strings without padding, exactly as
 * etcd prints them (`BigInt("0x" + id)` gives the 64-bit value).
 *
 * Methods never throw for a request that reached the member: failures come
 * back as data (`error` with an etcd error code). A thrown error or rejected
 * promise means the backend itself broke; kv-api answers it with error 300
 * ("Raft Internal Error") carrying the message, never a 500 page.
 */
export interface Backend {
  /** Cluster id, e.g. `"48276a8f75b6a87"` (`X-Etcd-Cluster-Id`). */
  readonly clusterId: string;
  /** This member's id (hex). */
  readonly memberId: string;

  /**
   * Replicates a key write and resolves once it has been applied locally,
   * with the store's result. The request already carries absolute times
   * (`expiration`, `time`) computed by the receiving member, so every member
   * applies it identically. Raft failures (no quorum, timeout) come back as
   * `error` code 300 with etcd's cause (e.g. `etcdserver: request timed out`).
   */
  propose(request: WriteRequest): Promise<KeyResult>;

  /**
   * A get. `linearizable: true` (`quorum=true`) goes through the
   * linearizable read path (ReadIndex or a log entry); otherwise the local
   * store answers. `time` renders `ttl`.
   */
  read(request: ReadRequest, options: { linearizable: boolean }): Promise<KeyResult>;

  /**
   * Registers a watch. Resolves once registered with the store index at
   * registration (or an `error`, e.g. 401), then calls `sink.event` for
   * every matching event (at most one unless `stream`), in order; calls
   * `sink.end()` when the backend drops the watch (slow consumer, restore,
   * shutdown). Aborting `signal` removes the watch.
   */
  watch(request: WatchRequest, sink: WatchSink, signal: WatchSignal): Promise<WatchStart>;

  /** All members, sorted by numeric id. */
  members(): Promise<MemberInfo[]>;
  /** The current leader, or undefined during an election. */
  leader(): Promise<MemberInfo | undefined>;
  /** Adds a member with these (already validated) peer URLs. */
  addMember(peerURLs: string[]): Promise<MemberChange>;
  /** Removes a member by id (hex). */
  removeMember(id: string): Promise<MemberChange>;
  /** Replaces a member's peer URLs. */
  updateMember(id: string, peerURLs: string[]): Promise<MemberChange>;

  /** `/v2/stats/self`. */
  selfStats(): Promise<SelfStats>;
  /** `/v2/stats/leader`, or undefined when this member is not the leader. */
  leaderStats(): Promise<LeaderStats | undefined>;
  /** `/v2/stats/store`: the store's counters. */
  storeStats(): Promise<V2StoreStats>;
  /** `true` when the cluster has a leader (`/health`). */
  health(): Promise<boolean>;
  /** `/version`. */
  version(): VersionInfo;
}

/** Outcome of a key write or read; `raftIndex`/`raftTerm` feed `X-Raft-Index`/`X-Raft-Term`. */
export interface KeyResult {
  event?: V2Event;
  error?: V2ErrorData;
  /** Raft commit index after the operation. */
  raftIndex: number;
  raftTerm: number;
}

/** A get (spec §5.1). `key` is the cleaned user key. */
export interface ReadRequest {
  key: string;
  recursive: boolean;
  sorted: boolean;
  /** The receiving member's clock, µs since the epoch (renders `ttl`). */
  time: Micros;
}

/** A watch (spec §7). `sinceIndex` 0 = the next index. */
export interface WatchRequest {
  key: string;
  recursive: boolean;
  stream: boolean;
  sinceIndex: number;
}

/** Where watch events go. */
export interface WatchSink {
  event(event: V2Event): void;
  end(): void;
}

/**
 * How the end of a watch reaches its backend: the part of an AbortSignal a
 * backend uses, which an AbortSignal satisfies. kv-api passes a lighter
 * object (see `KeysWatch`); a backend that needs a real AbortSignal, to
 * cancel a fetch, makes one with {@link abortSignalOf}.
 */
export interface WatchSignal {
  readonly aborted: boolean;
  /** `listener` runs once, when the watch ends; never if it has ended already. */
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
}

/** An AbortSignal that aborts with `signal`. */
export function abortSignalOf(signal: WatchSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener("abort", () => controller.abort(), { once: true });
  return controller.signal;
}

/** The answer to a watch registration. */
export interface WatchStart {
  error?: V2ErrorData;
  /** Store index at registration (`X-Etcd-Index`). */
  etcdIndex: number;
  raftIndex: number;
  raftTerm: number;
}

/** A member as `/v2/members` shows it (spec §9). */
export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/**
 * Outcome of a membership change: `member` on success (for add), or an
 * `error` with the HTTP status and message etcd answers (404 `No such member:
 * <id>`, 409 `membership: peerURL exists`, 410 `Member permanently removed:
 * <id>`, 500 `Internal Server Error`).
 */
export interface MemberChange {
  member?: MemberInfo;
  error?: { status: number; message: string };
}

/** `/v2/stats/self` (spec §10); times are µs since the epoch; rates are omitted when 0. */
export interface SelfStats {
  name: string;
  id: string;
  state: "StateLeader" | "StateFollower" | "StateCandidate" | "StatePreCandidate";
  startTime: Micros;
  leaderInfo: { leader: string; uptime: string; startTime: Micros };
  recvAppendRequestCnt: number;
  recvPkgRate?: number;
  recvBandwidthRate?: number;
  sendAppendRequestCnt: number;
  sendPkgRate?: number;
  sendBandwidthRate?: number;
}

/** `/v2/stats/leader` (spec §10); latencies in ms. */
export interface LeaderStats {
  leader: string;
  followers: Record<
    string,
    {
      latency: {
        current: number;
        average: number;
        standardDeviation: number;
        minimum: number;
        maximum: number;
      };
      counts: { fail: number; success: number };
    }
  >;
}

/** `/version`. */
export interface VersionInfo {
  etcdserver: string;
  etcdcluster: string;
}
