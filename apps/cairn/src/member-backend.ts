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
} from "@cairn/kv-api";
import { readStore, watchStore } from "@cairn/kv-api";
import {
  CLUSTER_VERSION,
  formatId,
  type Member,
  MembershipError,
  memberJson,
  parseId,
  RequestTimeoutError,
  SERVER_VERSION,
} from "@cairn/server";
import { type V2StoreStats, v2ErrorData, type WriteRequest } from "@cairn/v2store";

/** etcd's answer when a proposal or quorum read times out (spec bootstrap §5.2). */
const TIMEOUT_CAUSE = "etcdserver: request timed out";
/** How long `/health` waits for its quorum read (etcd's QGET timeout there). */
const HEALTH_READ_MS = 1_000;

const STATE_NAMES = {
  leader: "StateLeader",
  follower: "StateFollower",
} as const;

/** Go's `time.Duration.String()` for a non-negative number of microseconds. */
export function goDuration(micros: number): string {
  if (micros <= 0) return "0s";
  const ns = BigInt(Math.round(micros)) * 1000n;
  if (ns < 1_000_000_000n) {
    if (ns < 1_000_000n) return `${Number(ns) / 1000}µs`;
    return `${trim(Number(ns) / 1e6)}ms`;
  }
  let rest = Number(ns) / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = trim(Number(rest.toFixed(9)));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function trim(n: number): string {
  return String(n);
}

/**
 * kv-api's {@link Backend} over an in-process {@link Member}: writes become
 * raft proposals, `quorum=true` reads wait for a ReadIndex round, everything
 * else reads the member's own store.
 */
export class MemberBackend implements Backend {
  readonly clusterId: string;
  readonly memberId: string;

  constructor(private readonly member: Member) {
    this.clusterId = formatId(member.clusterId);
    this.memberId = formatId(member.id);
  }

  #head(): { raftIndex: number; raftTerm: number } {
    return this.member.raftHead();
  }

  #timeout(): KeyResult {
    // etcd answers a raft timeout with index 0 in the body and X-Etcd-Index.
    return { error: v2ErrorData(300, TIMEOUT_CAUSE, 0), ...this.#head() };
  }

  async propose(request: WriteRequest): Promise<KeyResult> {
    this.member.store.countAuthCheck();
    try {
      const r = await this.member.propose(request);
      const out: KeyResult = this.#head();
      if (r.event !== undefined) out.event = r.event;
      if (r.error !== undefined) out.error = r.error;
      return out;
    } catch (error) {
      if (error instanceof RequestTimeoutError) return this.#timeout();
      throw error;
    }
  }

  async read(request: ReadRequest, options: { linearizable: boolean }): Promise<KeyResult> {
    this.member.store.countAuthCheck();
    if (options.linearizable) {
      try {
        await this.member.linearizableBarrier();
      } catch (error) {
        if (error instanceof RequestTimeoutError) return this.#timeout();
        throw error;
      }
    }
    return readStore(this.member.store, request, this.#head());
  }

  async watch(request: WatchRequest, sink: WatchSink, signal: WatchSignal): Promise<WatchStart> {
    this.member.store.countAuthCheck();
    return watchStore(this.member.store, request, sink, signal, this.#head());
  }

  async members(): Promise<MemberInfo[]> {
    return this.member.members().map(memberJson);
  }

  async leader(): Promise<MemberInfo | undefined> {
    const lead = this.member.status().leader;
    const m = this.member.members().find((x) => x.id === lead);
    return m === undefined ? undefined : memberJson(m);
  }

  async #change(action: () => Promise<unknown>): Promise<MemberChange> {
    try {
      await action();
      return {};
    } catch (error) {
      if (error instanceof MembershipError) {
        return { error: { status: error.status, message: error.message } };
      }
      if (error instanceof RequestTimeoutError) {
        return { error: { status: 500, message: "Internal Server Error" } };
      }
      throw error;
    }
  }

  async addMember(peerURLs: string[]): Promise<MemberChange> {
    let added: MemberInfo | undefined;
    const result = await this.#change(async () => {
      added = memberJson(await this.member.addMember(peerURLs));
    });
    return added === undefined ? result : { member: added };
  }

  async removeMember(id: string): Promise<MemberChange> {
    let parsed: bigint;
    try {
      parsed = parseId(id);
    } catch {
      return { error: { status: 404, message: `No such member: ${id}` } };
    }
    return this.#change(() => this.member.removeMember(parsed));
  }

  async updateMember(id: string, peerURLs: string[]): Promise<MemberChange> {
    let parsed: bigint;
    try {
      parsed = parseId(id);
    } catch {
      return { error: { status: 404, message: `No such member: ${id}` } };
    }
    return this.#change(() => this.member.updateMember(parsed, peerURLs));
  }

  async selfStats(): Promise<SelfStats> {
    const s = this.member.status();
    const start = s.startTime.getTime() * 1000;
    const leaderStart = (s.leaderSince ?? s.startTime).getTime() * 1000;
    return {
      name: s.name,
      id: formatId(s.id),
      state: s.isLeader ? STATE_NAMES.leader : STATE_NAMES.follower,
      startTime: start,
      leaderInfo: {
        leader: formatId(s.leader),
        uptime: goDuration(Date.now() * 1000 - leaderStart),
        startTime: leaderStart,
      },
      recvAppendRequestCnt: s.recvAppendRequests,
      sendAppendRequestCnt: s.sendAppendRequests,
    };
  }

  async leaderStats(): Promise<LeaderStats | undefined> {
    const s = this.member.status();
    if (!s.isLeader) return undefined;
    const followers: LeaderStats["followers"] = {};
    for (const m of this.member.members()) {
      if (m.id === s.id) continue;
      const c = this.member.peers.counters(m.id);
      followers[formatId(m.id)] = {
        latency: {
          current: c?.latency.current ?? 0,
          average: c?.latency.average ?? 0,
          standardDeviation: c?.latency.standardDeviation ?? 0,
          minimum: c?.latency.minimum ?? 0,
          maximum: c?.latency.maximum ?? 0,
        },
        counts: { fail: c?.failures ?? 0, success: c?.successes ?? 0 },
      };
    }
    return { leader: formatId(s.id), followers };
  }

  async storeStats(): Promise<V2StoreStats> {
    return this.member.store.stats();
  }

  /**
   * Healthy once there is a leader, this member has published its attributes
   * (name, client URLs) through raft, and a quorum read completes within
   * {@link HEALTH_READ_MS}.
   *
   * etcd does not serve client requests at all before that publish (its
   * client listener waits for `ReadyNotify`), so a client that saw
   * `{"health":"true"}` always finds the member listed with its client URLs
   * and the store past its bootstrap records (cluster version, attributes).
   * The quorum read is etcd's too (a QGET given one second): a member that
   * still believes in a leader but cannot reach a quorum, or whose raft loop
   * or apply has stalled (on a disk that hangs, say), is not healthy.
   */
  async health(): Promise<boolean> {
    if (this.member.status().leader === 0n) return false;
    const self = this.member.members().find((m) => m.id === this.member.id);
    if (self === undefined || (self.name === "" && self.clientURLs.length === 0)) return false;
    try {
      await this.member.linearizableBarrier(HEALTH_READ_MS);
      return true;
    } catch {
      return false; // timed out, or the member stopped
    }
  }

  version(): VersionInfo {
    return { etcdserver: SERVER_VERSION, etcdcluster: CLUSTER_VERSION };
  }
}
