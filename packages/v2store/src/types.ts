import type { V2ErrorData } from "./errors.js";

/**
 * A point in time: integer **microseconds** since the Unix epoch. The store
 * never reads a clock; every time it needs is carried by the request (the
 * receiving member's clock for writes, the leader's for expiry), so every
 * member applying the same log reaches the same state.
 */
export type Micros = number;

/** The actions of v2 events (spec §2.1). */
export type V2Action =
  | "get"
  | "set"
  | "create"
  | "update"
  | "compareAndSwap"
  | "delete"
  | "compareAndDelete"
  | "expire";

/**
 * A node as etcd shows it (spec §2.2), as plain data. Absent fields are
 * omitted in JSON. `expiration` is absolute (µs); `ttl` was computed when the
 * node was rendered (at apply time for events, at read time for gets).
 * The root has `key` `"/"` here and no indexes (0); renderers omit them.
 */
export interface V2Node {
  key: string;
  value?: string;
  dir?: true;
  expiration?: Micros;
  ttl?: number;
  nodes?: V2Node[];
  modifiedIndex: number;
  createdIndex: number;
}

/** A store event (spec §2.1): the result of a write, a get, or a watch notification. */
export interface V2Event {
  action: V2Action;
  node: V2Node;
  prevNode?: V2Node;
  /** Store index after the operation (`X-Etcd-Index` for writes and gets). */
  etcdIndex: number;
  /** A TTL refresh: recorded in history but never delivered to watchers (spec §6.2). */
  refresh?: true;
}

/**
 * A key write, as the receiving member built it from the HTTP request
 * (etcd's `RequestV2`). The store chooses set / create / update /
 * compareAndSwap / delete / compareAndDelete from the fields exactly as
 * etcd's applier does (spec §4).
 */
export interface WriteRequest {
  readonly method: "PUT" | "POST" | "DELETE";
  /** Cleaned user key, `/` for the root (spec §3.1). */
  readonly key: string;
  readonly value?: string;
  readonly dir?: boolean;
  /** `""`/absent = no value condition. */
  readonly prevValue?: string;
  /** 0/absent = no index condition. */
  readonly prevIndex?: number;
  /** Absent = no existence condition. */
  readonly prevExist?: boolean;
  readonly recursive?: boolean;
  readonly refresh?: boolean;
  /** Absolute expiration (µs); absent = permanent. Computed by the receiving member (now + ttl). */
  readonly expiration?: Micros;
  /** The receiving member's clock; used only to render `ttl` in the result. */
  readonly time: Micros;
}

/**
 * Expiry sweep (etcd's `SYNC`): proposed by the leader with its clock;
 * applying it expires every node whose expiration ≤ `time`, one index and
 * one `expire` event each (spec §6.1).
 */
export interface SyncRequest {
  readonly method: "SYNC";
  readonly time: Micros;
}

/**
 * A linearizable get (`quorum=true`) ordered through the log. Changes nothing.
 */
export interface QuorumGetRequest {
  readonly method: "QGET";
  readonly key: string;
  readonly recursive?: boolean;
  readonly sorted?: boolean;
  readonly time: Micros;
}

/**
 * An internal record (membership, cluster version) kept outside the user key
 * space, as etcd keeps them under `/0`. It consumes one index and one history
 * slot but is never visible to users or watchers (spec §1.4). `value: null`
 * deletes the record.
 */
export interface InternalRequest {
  readonly method: "INTERNAL";
  readonly key: string;
  readonly value: string | null;
}

/** Anything the store applies. */
export type V2Request = WriteRequest | SyncRequest | QuorumGetRequest | InternalRequest;

/** The outcome of applying one request. Exactly one of `event`/`error` for key requests; neither for SYNC/INTERNAL. */
export interface ApplyResult {
  event?: V2Event;
  error?: V2ErrorData;
  /** SYNC: how many nodes expired. */
  expired?: number;
}

/** The store's operation counters (`/v2/stats/store`, spec §10), in etcd's field order. */
export interface V2StoreStats {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}
