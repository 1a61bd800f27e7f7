import { computeClusterId, computeMemberId, formatId as idHex } from "@cairn/server/identity";
import { type Micros, V2Store, type V2StoreStats, type WriteRequest } from "@cairn/v2store";
import type {
  Backend,
  KeyResult,
  LeaderStats,
  MemberChange,
  MemberInfo,
  ReadRequest,
  SelfStats,
  VersionInfo,
  WatchRequest,
  WatchSignal,
  WatchSink,
  WatchStart,
} from "./backend.js";
import { readStore, watchStore } from "./store-backend.js";
import { formatGoDuration, nowMicros } from "./time.js";

/** Options of a {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** Events kept for `waitIndex` (default 1000, as etcd). */
  historySize?: number;
  /** Member name (default `default`, as etcd). */
  name?: string;
  /** Advertised peer URLs (default `http://localhost:2380`); they determine the member id. */
  peerURLs?: string[];
  /** Advertised client URLs (default `http://localhost:2379`). */
  clientURLs?: string[];
  /** `--initial-cluster-token` (default `etcd-cluster`). */
  token?: string;
  /** Expiry sweep period in ms (default 500, as etcd's leader). */
  sweepIntervalMs?: number;
  /** Clock in µs since the epoch (default: the wall clock). */
  clock?: () => Micros;
}

/** What etcd 3.4.23 reports. */
const VERSION: VersionInfo = { etcdserver: "3.4.23", etcdcluster: "3.4.0" };

/**
 * A single-process, in-memory backend for tests and embedding — **no
 * durability, no replication**. It applies requests directly to a
 * {@link V2Store}, runs TTL expiry on a timer through the same `SYNC` request
 * a leader would replicate, and presents one plausible member whose id is
 * computed as etcd computes it (so the defaults give etcd's well-known
 * `8e9e05c52164694d` / cluster `cdf818194e3a8c32`). Its store starts at
 * index 3 and raft index 4, where a fresh single-member etcd starts (the
 * member's attribute records and the cluster version consume indexes).
 *
 * Call {@link close} to stop the expiry timer.
 */
export class LocalBackend implements Backend {
  /** The store, exposed for tests and embedding. */
  readonly store: V2Store;
  readonly clusterId: string;
  readonly memberId: string;
  private raftIndex = 4;
  private readonly raftTerm = 2;
  private readonly clock: () => Micros;
  private readonly startTime: Micros;
  private readonly memberList = new Map<string, MemberInfo>();
  private readonly removed = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LocalBackendOptions = {}) {
    this.store = new V2Store(
      options.historySize === undefined ? {} : { historySize: options.historySize },
    );
    this.clock = options.clock ?? nowMicros;
    this.startTime = this.clock();
    const peerURLs = options.peerURLs ?? ["http://localhost:2380"];
    const id = computeMemberId(peerURLs, options.token ?? "etcd-cluster");
    this.memberId = idHex(id);
    this.clusterId = idHex(computeClusterId([id]));
    const self: MemberInfo = {
      id: this.memberId,
      name: options.name ?? "default",
      peerURLs: [...peerURLs].sort(),
      clientURLs: options.clientURLs ?? ["http://localhost:2379"],
    };
    this.memberList.set(self.id, self);
    // The three records a fresh etcd member writes (spec §1.4): raft
    // attributes, published attributes, cluster version.
    const base = `/0/members/${self.id}`;
    this.internal(`${base}/raftAttributes`, JSON.stringify({ peerURLs: self.peerURLs }));
    this.internal(
      `${base}/attributes`,
      JSON.stringify({ name: self.name, clientURLs: self.clientURLs }),
    );
    this.internal("/0/version", "3.4.0");
    this.raftIndex = 4;
    const period = options.sweepIntervalMs ?? 500;
    this.timer = setInterval(() => this.sweep(), period);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Stops the expiry timer. The store stays readable. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs one expiry sweep now, as the leader's 500 ms ticker does while TTL keys exist. */
  sweep(): void {
    if (this.store.nextExpiration() === undefined) return;
    this.raftIndex++;
    this.store.apply({ method: "SYNC", time: this.clock() });
  }

  private internal(key: string, value: string | null): void {
    this.raftIndex++;
    this.store.apply({ method: "INTERNAL", key, value });
  }

  async propose(request: WriteRequest): Promise<KeyResult> {
    this.raftIndex++;
    this.store.countAuthCheck();
    const r = this.store.apply(request);
    const out: KeyResult = { raftIndex: this.raftIndex, raftTerm: this.raftTerm };
    if (r.event !== undefined) out.event = r.event;
    if (r.error !== undefined) out.error = r.error;
    return out;
  }

  async read(request: ReadRequest, options: { linearizable: boolean }): Promise<KeyResult> {
    return this.readSync(request, options);
  }

  /** The synchronous body of {@link read} (no promise hop for embedders that want one). */
  readSync(request: ReadRequest, options: { linearizable: boolean }): KeyResult {
    this.store.countAuthCheck();
    if (options.linearizable) {
      this.raftIndex++;
      const r = this.store.apply({
        method: "QGET",
        key: request.key,
        recursive: request.recursive,
        sorted: request.sorted,
        time: request.time,
      });
      const out: KeyResult = { raftIndex: this.raftIndex, raftTerm: this.raftTerm };
      if (r.event !== undefined) out.event = r.event;
      if (r.error !== undefined) out.error = r.error;
      return out;
    }
    return readStore(this.store, request, { raftIndex: this.raftIndex, raftTerm: this.raftTerm });
  }

  async watch(request: WatchRequest, sink: WatchSink, signal: WatchSignal): Promise<WatchStart> {
    this.store.countAuthCheck();
    return watchStore(this.store, request, sink, signal, {
      raftIndex: this.raftIndex,
      raftTerm: this.raftTerm,
    });
  }

  async members(): Promise<MemberInfo[]> {
    return [...this.memberList.values()].sort((a, b) => {
      const x = BigInt(`0x${a.id}`);
      const y = BigInt(`0x${b.id}`);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  async leader(): Promise<MemberInfo | undefined> {
    return this.memberList.get(this.memberId);
  }

  async addMember(peerURLs: string[]): Promise<MemberChange> {
    const urls = [...peerURLs].sort();
    for (const m of this.memberList.values()) {
      if (m.peerURLs.some((u) => urls.includes(u))) {
        return { error: { status: 409, message: "membership: peerURL exists" } };
      }
    }
    // etcd's strict reconfiguration check: members added here never start,
    // and a member that is not connected to every voting peer refuses to add
    // another (a 1-of-1 cluster may add one, then loses quorum on etcd).
    if (this.memberList.size > 1) {
      return { error: { status: 500, message: "Internal Server Error" } };
    }
    const id = idHex(computeMemberId(urls, String(Math.floor(this.clock() / 1e6))));
    const member: MemberInfo = { id, name: "", peerURLs: urls, clientURLs: [] };
    this.memberList.set(id, member);
    this.internal(`/0/members/${id}/raftAttributes`, JSON.stringify({ peerURLs: urls }));
    return { member };
  }

  async removeMember(id: string): Promise<MemberChange> {
    if (this.removed.has(id)) {
      return { error: { status: 410, message: `Member permanently removed: ${id}` } };
    }
    if (!this.memberList.has(id) || id === this.memberId) {
      // Removing the only member would leave no quorum; etcd's strict
      // reconfiguration check rejects it with a 500.
      if (id === this.memberId) {
        return { error: { status: 500, message: "Internal Server Error" } };
      }
      return { error: { status: 404, message: `No such member: ${id}` } };
    }
    this.memberList.delete(id);
    this.removed.add(id);
    this.internal(`/0/members/${id}/raftAttributes`, null);
    this.internal(`/0/removed_members/${id}`, "removed");
    return {};
  }

  async updateMember(id: string, peerURLs: string[]): Promise<MemberChange> {
    const m = this.memberList.get(id);
    if (m === undefined) return { error: { status: 404, message: `No such member: ${id}` } };
    const urls = [...peerURLs].sort();
    for (const other of this.memberList.values()) {
      if (other.id !== id && other.peerURLs.some((u) => urls.includes(u))) {
        return { error: { status: 409, message: "membership: peerURL exists" } };
      }
    }
    m.peerURLs = urls;
    this.internal(`/0/members/${id}/raftAttributes`, JSON.stringify({ peerURLs: urls }));
    return {};
  }

  async selfStats(): Promise<SelfStats> {
    const self = this.memberList.get(this.memberId)!;
    const now = this.clock();
    return {
      name: self.name,
      id: self.id,
      state: "StateLeader",
      startTime: this.startTime,
      leaderInfo: {
        leader: self.id,
        uptime: formatGoDuration(now - this.startTime),
        startTime: this.startTime,
      },
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    };
  }

  async leaderStats(): Promise<LeaderStats | undefined> {
    return { leader: this.memberId, followers: {} };
  }

  async storeStats(): Promise<V2StoreStats> {
    return this.store.stats();
  }

  async health(): Promise<boolean> {
    return true;
  }

  version(): VersionInfo {
    return VERSION;
  }
}
