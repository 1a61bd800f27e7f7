import { existsSync } from "node:fs";
import {
  type ConfChange,
  ConfChangeType,
  decodeConfChange,
  decodeMessage,
  type Entry,
  EntryType,
  encodeConfChange,
  encodeMessage,
  type HardState,
  type Message,
  MessageType,
  NONE,
  ProposalDroppedError,
  RaftNode,
  type Ready,
  StateRole,
} from "@cairn/raft";
import { type DriverName, openStorage, type RaftStorage } from "@cairn/storage";
import {
  type ApplyResult,
  decodeRequest,
  encodeRequest,
  type V2Request,
  V2Store,
} from "@cairn/v2store";
import {
  BootstrapError,
  MemberStoppedError,
  MembershipError,
  RequestTimeoutError,
} from "./errors.js";
import { bootstrapIdentity, computeAddedMemberId, formatId, parseId } from "./identity.js";
import type { Logger } from "./logger.js";
import { StorageLogView } from "./logview.js";
import {
  attributesKey,
  attributesValue,
  isRemovedMember,
  type MemberInfo,
  memberJson,
  raftAttributesKey,
  raftAttributesValue,
  readMembers,
  removedKey,
  VERSION_KEY,
} from "./membership.js";
import { forceNewCluster, META_TABLE, memberDataFile } from "./standalone.js";
import {
  createPeerApi,
  type PeerHandler,
  PeerSender,
  type StreamDialer,
} from "./transport/index.js";

/** The server and cluster versions Cairn reports, as etcd 3.4.23 does (spec §10). */
export const SERVER_VERSION = "3.4.23";
/** The cluster version recorded at bootstrap. */
export const CLUSTER_VERSION = "3.4.0";

/** How a member is set up; apps/cairn builds this from etcd's flags. */
export interface MemberConfig {
  readonly name: string;
  readonly dataDir: string;
  /** `--initial-advertise-peer-urls` */
  readonly peerUrls: readonly string[];
  /** `--advertise-client-urls` */
  readonly clientUrls: readonly string[];
  /** `--initial-cluster`, parsed: name -> peer URLs. */
  readonly initialCluster: ReadonlyMap<string, readonly string[]>;
  readonly initialClusterState: "new" | "existing";
  readonly initialClusterToken: string;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly snapshotCount: number;
  readonly strictReconfigCheck: boolean;
  /** Events kept for `waitIndex` (etcd: 1000). */
  readonly historySize: number;
  readonly logger: Logger;
  /** Overrides the SQLite driver the runtime would pick. */
  readonly storageDriver?: DriverName;
  /** Entries kept behind a snapshot for slow followers (default 5000, as etcd). */
  readonly compactionMargin?: number;
  /** For tests: the fetch used to reach peers. */
  readonly fetch?: typeof fetch;
  /** Reads the streams of messages peers write to this member (the runtime's leanest way). */
  readonly dialStream?: StreamDialer;
  /**
   * `--force-new-cluster`: with existing data, become a one-member cluster
   * (see {@link forceNewCluster}); ignored for an empty data dir, as etcd does.
   */
  readonly forceNewCluster?: boolean;
}

/** What a member tells about itself for the stats and health endpoints. */
export interface MemberStatus {
  readonly id: bigint;
  readonly clusterId: bigint;
  readonly name: string;
  readonly leader: bigint;
  readonly isLeader: boolean;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly startTime: Date;
  readonly leaderSince: Date | undefined;
  /** Append requests received from a leader (`recvAppendRequestCnt`). */
  readonly recvAppendRequests: number;
  /** Append requests sent to followers (`sendAppendRequestCnt`). */
  readonly sendAppendRequests: number;
}

interface Waiter {
  resolve(result: ApplyResult): void;
  reject(error: Error): void;
  /** `performance.now()` after which the request times out. */
  deadline: number;
  what: string;
}

interface ReadWaiter {
  resolve(): void;
  reject(error: Error): void;
  /** Resolved, rejected or timed out: dropped from later rounds. */
  readonly settled: boolean;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** etcd's v2 expiry sweep period (spec bootstrap §5.2). */
const SYNC_INTERVAL_MS = 500;
/** How long a commit advance alone may wait for the next append to carry it. */
const PENDING_COMMIT_MS = 20;
/**
 * While a leader's appends come at most {@link NOTICE_STREAM_GAP_MS} apart,
 * its commit notices wait this long for the next append to carry the commit
 * index instead (see {@link Member#queueNotices}).
 */
const NOTICE_WAIT_MS = 2;
const NOTICE_STREAM_GAP_MS = 5;
/** How often idle peer links are probed (connectivity for the reconfiguration checks). */
const PROBE_INTERVAL_MS = 1_000;
/** Entries kept in the log behind a snapshot, for followers a little behind (etcd's 5,000). */
const DEFAULT_COMPACTION_MARGIN = 5_000;
/**
 * Entries one compaction step deletes. Dropping the 95,000 entries behind a
 * snapshot in one DELETE held the event loop for 180 ms, and every request
 * that arrived meanwhile waited (the p99 of 64-connection writes was over
 * 100 ms); 2,000 take a few ms, and the loop turns between steps.
 */
const COMPACT_STEP = 2_000;

const later: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (fn) => {
        globalThis.setImmediate(fn);
      }
    : (fn) => {
        setTimeout(fn, 0);
      };

/** Resolves once the event loop has turned (pending I/O writes and ticks have run). */
function turn(): Promise<void> {
  return new Promise((resolve) => later(resolve));
}

function commitsConfChange(rd: Ready): boolean {
  for (const e of rd.committedEntries) if (e.type === EntryType.ConfChange) return true;
  return false;
}

/** Entry data: an 8-byte request id, then the encoded v2 request. */
function envelope(id: bigint, request: V2Request): Uint8Array {
  const out = encodeRequest(request, 8);
  new DataView(out.buffer, out.byteOffset, 8).setBigUint64(0, id);
  return out;
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((u, i) => u === y[i]);
}

/**
 * One Cairn member: the raft core driven by real time, the SQLite log, the
 * v2 store it applies to, and the peer transport. Every write is a raft
 * proposal resolved when its entry is applied here; `quorum=true` reads wait
 * for a ReadIndex round (Raft thesis §6.4).
 */
export class Member {
  readonly id: bigint;
  readonly clusterId: bigint;
  readonly store: V2Store;
  readonly startTime = new Date();
  readonly #config: MemberConfig;
  readonly #log: Logger;
  readonly #storage: RaftStorage;
  readonly #raft: RaftNode;
  readonly #logView: StorageLogView;
  readonly #sender: PeerSender;
  readonly #requestTimeoutMs: number;
  /**
   * Proposals waiting to be applied, in submission order. Every request has
   * the same timeout, so their deadlines ascend in this order too and one
   * timer (for the oldest) serves them all, not a timer per request.
   */
  readonly #waiters = new Map<bigint, Waiter>();
  #waiterTimer: ReturnType<typeof setTimeout> | undefined;
  /** A commit advance not written yet (see {@link #persist}). */
  #pendingCommit: HardState | undefined;
  #pendingCommitTimer: ReturnType<typeof setTimeout> | undefined;
  /** The pending commit advance is old enough for the next append to carry it. */
  #pendingCommitDue = false;
  /** Proposals made while no leader was known, retried when one is. */
  #parked: { id: bigint; submit: () => void }[] = [];
  readonly #idPrefix: bigint;
  #idCounter = 0n;
  #applied: number;
  #snapshotIndex: number;
  /** A log compaction is under way (see {@link #compactTo}), and its target. */
  #compacting = false;
  #compaction = { index: 0, bytes: 0 };
  #leader: bigint = NONE;
  #role: StateRole = StateRole.Follower;
  #leaderSince: Date | undefined;
  #scheduled = false;
  #driving = false;
  /**
   * Commit notices (appends without entries) not sent yet, the latest per
   * follower; whether a turn to send them is queued, must send them whatever
   * is due, or came while a drive was due (see {@link #queueNotices}).
   */
  readonly #notices = new Map<bigint, Message>();
  #noticesQueued = false;
  #noticesForced = false;
  #noticesDue = false;
  /** When the pending notices began to wait (the map was empty before), and their timer. */
  #noticesSince = 0;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When this leader last appended new entries, and the time since the append before. */
  #lastAppendAt = Number.NEGATIVE_INFINITY;
  #appendGap = Number.POSITIVE_INFINITY;
  #stopped = false;
  #fatal: Error | undefined;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  /** Reads waiting for their ReadIndex round to be issued. */
  #readQueue: ReadWaiter[] = [];
  #readRound: { ctx: string; waiters: ReadWaiter[]; issuedAt: number } | undefined;
  #readCounter = 0;
  /** Reads whose round answered, waiting for the applied index to reach it. */
  #readsByIndex: { index: number; waiters: ReadWaiter[] }[] = [];
  /** Snapshot data received from a leader, by snapshot index, until installed. */
  readonly #incoming = new Map<number, Uint8Array[]>();
  /** Resolves when the member stops (removed, fatal error, or stop()). */
  readonly stopped: Promise<string>;
  #resolveStopped!: (reason: string) => void;
  #persistedTerm = -1;
  #persistedVote: bigint = -1n;
  #publishing = false;
  #caughtUp = false;
  #catchingUp = false;
  #campaigned = false;
  /** The last Ready with new entries had at most one request waiting. */
  #wasLone = false;
  /** The last Ready with new entries had exactly one. */
  #lastSingle = false;
  #recvAppend = 0;
  #sendAppend = 0;

  private constructor(
    config: MemberConfig,
    storage: RaftStorage,
    ids: { id: bigint; clusterId: bigint },
    store: V2Store,
    bootstrapPeers: MemberInfo[],
  ) {
    this.#config = config;
    this.id = ids.id;
    this.clusterId = ids.clusterId;
    this.#log = config.logger.child({ "local-member-id": formatId(ids.id) });
    this.#storage = storage;
    this.store = store;
    this.#requestTimeoutMs = 5_000 + 2 * config.electionTimeoutMs;
    const random = new Uint32Array(2);
    crypto.getRandomValues(random);
    this.#idPrefix = (BigInt(random[0]!) << 32n) | (BigInt(random[1]! & 0xffff) << 16n);
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    const snap = storage.snapshot();
    const persisted = storage.initialState().hardState;
    this.#persistedTerm = persisted.term;
    this.#persistedVote = persisted.vote;
    this.#snapshotIndex = snap.index;
    this.#applied = snap.index;
    this.#logView = new StorageLogView(storage);
    this.#raft = new RaftNode({
      id: ids.id,
      storage: this.#logView,
      electionTick: Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs)),
      heartbeatTick: 1,
      applied: snap.index,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 512,
      // Committed entries are handed out (and, after a restart, read back from
      // SQLite) in batches of this many bytes: small enough that a replay's
      // entries die young instead of being promoted by the garbage collector.
      maxCommittedSizePerReady: 4 * 1024 * 1024,
    });
    this.#sender = new PeerSender({
      clusterId: ids.clusterId,
      localId: ids.id,
      logger: this.#log,
      onUnreachable: (peer) => {
        this.#raft.reportUnreachable(peer);
        this.#schedule();
      },
      onRemoved: () => this.#stopRemoved(),
      onMessages: (_from, frames) => this.#deliver(frames),
      ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
      ...(config.dialStream === undefined ? {} : { dialStream: config.dialStream }),
    });
    for (const m of [...bootstrapPeers, ...readMembers(store)]) {
      if (m.id !== ids.id) this.#sender.setPeer(m.id, m.peerURLs);
    }
  }

  /**
   * Opens the data directory and returns a member ready to `start()`: a
   * restart when it holds data (bootstrap flags are then ignored, as etcd
   * does), else a new member bootstrapped as `initialClusterState` says.
   */
  static async open(config: MemberConfig): Promise<Member> {
    const storage = await openStorage(memberDataFile(config.dataDir), {
      ...(config.storageDriver === undefined ? {} : { driver: config.storageDriver }),
      compactionMargin: config.compactionMargin ?? DEFAULT_COMPACTION_MARGIN,
    });
    try {
      storage.migrate("member", [
        (db) =>
          db.exec(`CREATE TABLE ${META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`),
      ]);
      const store = new V2Store({ historySize: config.historySize });
      const meta = readMeta(storage);
      const hasData = storage.lastIndex() > 0 || storage.snapshot().index > 0;
      if (meta !== undefined && hasData) {
        const snapshot = storage.loadSnapshot();
        if (snapshot !== undefined) {
          const parts: Uint8Array[] = [];
          for await (const chunk of snapshot.chunks()) parts.push(chunk);
          store.restore(decodeChunks(parts));
        }
        config.logger.info("restarting member", {
          "local-member-id": formatId(meta.id),
          "cluster-id": formatId(meta.clusterId),
          "snapshot-index": storage.snapshot().index,
          "last-index": storage.lastIndex(),
        });
        if (config.forceNewCluster === true) {
          const removed = forceNewCluster(storage, meta.id, config.peerUrls);
          config.logger.warn("forcing restart as a one-member cluster", {
            "local-member-id": formatId(meta.id),
            "removed-member-ids": removed.map(formatId),
            "commit-index": storage.initialState().hardState.commit,
          });
        }
        return new Member(config, storage, meta, store, []);
      }
      if (config.initialClusterState === "existing") {
        const joined = await joinExisting(config);
        writeMeta(storage, joined);
        return new Member(config, storage, joined, store, joined.remote);
      }
      const boot = await bootstrapNew(config);
      writeMeta(storage, boot);
      // etcd's StartNode: the founding members are committed ConfChange entries
      // 1..n of term 1, each carrying the member (so every member derives the
      // same membership, and the records it writes, from the log alone).
      const entries: Entry[] = boot.members.map((m, i) => ({
        index: i + 1,
        term: 1,
        type: EntryType.ConfChange,
        data: encodeConfChange({
          type: ConfChangeType.AddNode,
          nodeId: m.id,
          context: encoder.encode(JSON.stringify({ peerURLs: m.peerUrls })),
        }),
      }));
      storage.append({
        hardState: { term: 1, vote: NONE, commit: entries.length },
        entries,
      });
      return new Member(
        config,
        storage,
        boot,
        store,
        boot.members.map((m) => ({ id: m.id, name: "", peerURLs: m.peerUrls, clientURLs: [] })),
      );
    } catch (error) {
      storage.close();
      throw error;
    }
  }

  /**
   * True when `dataDir` already holds a member's data: bootstrap flags are
   * then ignored (etcd checks `--initial-cluster` only for an empty dir).
   */
  static hasData(dataDir: string): boolean {
    return existsSync(memberDataFile(dataDir));
  }

  /** The Hono app to serve on the peer URLs. */
  peerApi() {
    const handler: PeerHandler = {
      clusterId: () => this.clusterId,
      localId: this.id,
      isRemoved: (id) => isRemovedMember(this.store, id),
      deliver: (_from, frames) => this.#deliver(frames),
      openStream: (from) => (this.#stopped ? undefined : this.#sender.attachStream(from)),
      receiveSnapshot: async (_from, frame, data) => {
        const message = decodeMessage(frame);
        const chunks: Uint8Array[] = [];
        for await (const chunk of data as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
        if (this.#stopped || message.snapshot === null) return;
        this.#incoming.set(message.snapshot.metadata.index, chunks);
        this.#log.info("received snapshot", {
          "snapshot-index": message.snapshot.metadata.index,
          bytes: chunks.reduce((n, c) => n + c.byteLength, 0),
        });
        this.#raft.step(message);
        this.#schedule();
      },
      membersJson: () => JSON.stringify(readMembers(this.store).map(memberJson)),
      versionJson: () =>
        JSON.stringify({ etcdserver: SERVER_VERSION, etcdcluster: CLUSTER_VERSION }),
    };
    return createPeerApi(handler);
  }

  /**
   * Steps raft messages received from a peer (encoded frames). The frames
   * are this member's to keep (a stream's are copied out of the socket's
   * chunks, a POST's are views of its own body), so the decoded entries may
   * be views of them: no second copy per message.
   */
  #deliver(frames: Uint8Array[]): void {
    if (this.#stopped) return;
    for (const frame of frames) {
      try {
        const message = decodeMessage(frame, true);
        if (message.type === MessageType.App) this.#recvAppend++;
        this.#raft.step(message);
      } catch (error) {
        this.#log.warn("dropped a bad raft message", { error: String(error) });
      }
    }
    this.#schedule();
  }

  /** Starts ticking, replicating and publishing this member's attributes. */
  start(): void {
    this.#timers.push(
      setInterval(() => {
        if (this.#stopped) return;
        this.#raft.tick();
        this.#checkReadRound();
        this.#catchUp();
        this.#schedule();
      }, this.#config.heartbeatIntervalMs),
      setInterval(() => this.#expirySweep(), SYNC_INTERVAL_MS),
      setInterval(() => void this.#publishAttributes(), SYNC_INTERVAL_MS),
      setInterval(() => this.#sender.probe(), PROBE_INTERVAL_MS),
    );
    this.#sender.probe(); // opens the peer streams now rather than in a second
    this.#campaignIfAlone();
    this.#schedule();
  }

  /** The member's state for the stats and health endpoints. */
  status(): MemberStatus {
    if (this.#stopped && this.#lastStatus !== undefined) return this.#lastStatus;
    const s = this.#raft.status();
    return {
      id: this.id,
      clusterId: this.clusterId,
      name: this.#config.name,
      leader: this.#leader,
      isLeader: this.#role === StateRole.Leader,
      term: s.term,
      commitIndex: s.commit,
      appliedIndex: this.#applied,
      startTime: this.startTime,
      leaderSince: this.#leaderSince,
      recvAppendRequests: this.#recvAppend,
      sendAppendRequests: this.#sendAppend,
    };
  }

  #lastStatus: MemberStatus | undefined;

  /**
   * The commit index and term every client answer reports (`X-Raft-Index`,
   * `X-Raft-Term`): what {@link status} says of them, without building the
   * whole status on each request.
   */
  raftHead(): { raftIndex: number; raftTerm: number } {
    if (this.#stopped && this.#lastStatus !== undefined) {
      return { raftIndex: this.#lastStatus.commitIndex, raftTerm: this.#lastStatus.term };
    }
    return { raftIndex: this.#raft.committed, raftTerm: this.#raft.currentTerm };
  }

  /**
   * True once this member's name and client URLs are applied in the
   * cluster's records (etcd's ReadyNotify: before that, etcd serves no
   * client traffic, so `/health` stays false). A member that is the only
   * voter also waits until everything committed before it started is applied
   * (see {@link #catchUp}), which takes it an election of its own; one of
   * several serves its local store at once, as etcd does.
   */
  get published(): boolean {
    return (
      (this.#caughtUp || this.#raft.confState().voters.length > 1) &&
      this.store.internalValue(attributesKey(this.id)) ===
        attributesValue(this.#config.name, this.#config.clientUrls)
    );
  }

  /** The members, sorted by id. */
  members(): MemberInfo[] {
    return readMembers(this.store);
  }

  /** The peer sender, for stats. */
  get peers(): PeerSender {
    return this.#sender;
  }

  /**
   * Proposes a v2 request and resolves with the store's result once it is
   * applied here. Fails with {@link RequestTimeoutError} after etcd's request
   * timeout (5 s + 2 × election timeout), waiting for a leader meanwhile.
   */
  propose(request: V2Request): Promise<ApplyResult> {
    const id = this.#nextId();
    const data = envelope(id, request);
    return this.#submit(id, "request", () => this.#raft.propose(data));
  }

  /**
   * Resolves once this member has applied everything committed before the
   * call: a linearizable read may then be served from the local store
   * (ReadIndex, Raft thesis §6.4). Concurrent reads share a round. Rejects
   * with a {@link RequestTimeoutError} after `timeoutMs` (by default the
   * member's request timeout).
   */
  linearizableBarrier(timeoutMs = this.#requestTimeoutMs): Promise<void> {
    if (this.#stopped) return Promise.reject(new MemberStoppedError());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => waiter.reject(new RequestTimeoutError("linearizable read")),
        timeoutMs,
      );
      const waiter = {
        settled: false,
        resolve: () => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#readQueue.push(waiter);
      this.#issueReadRound();
    });
  }

  /** Adds a voting member with `peerURLs` (members API POST). */
  async addMember(peerURLs: readonly string[]): Promise<MemberInfo> {
    const urls = [...peerURLs].sort();
    for (const m of readMembers(this.store)) {
      if (m.peerURLs.some((u) => urls.includes(u))) {
        throw new MembershipError(409, "membership: peerURL exists");
      }
    }
    const id = computeAddedMemberId(urls, Math.floor(Date.now() / 1000));
    if (this.#config.strictReconfigCheck) this.#checkAddQuorum();
    await this.#proposeConfChange({
      type: ConfChangeType.AddNode,
      nodeId: id,
      context: encoder.encode(JSON.stringify({ peerURLs: urls })),
    });
    return { id, name: "", peerURLs: urls, clientURLs: [] };
  }

  /** Removes member `id` (members API DELETE). */
  async removeMember(id: bigint): Promise<void> {
    if (isRemovedMember(this.store, id)) {
      throw new MembershipError(410, `Member permanently removed: ${formatId(id)}`);
    }
    if (!readMembers(this.store).some((m) => m.id === id)) {
      throw new MembershipError(404, `No such member: ${formatId(id)}`);
    }
    if (this.#config.strictReconfigCheck) this.#checkRemoveQuorum(id);
    await this.#proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: EMPTY });
  }

  /** Replaces the peer URLs of member `id` (members API PUT). */
  async updateMember(id: bigint, peerURLs: readonly string[]): Promise<void> {
    const urls = [...peerURLs].sort();
    const members = readMembers(this.store);
    if (!members.some((m) => m.id === id)) {
      throw new MembershipError(404, `No such member: ${formatId(id)}`);
    }
    for (const m of members) {
      if (m.id !== id && m.peerURLs.some((u) => urls.includes(u))) {
        throw new MembershipError(409, "membership: peerURL exists");
      }
    }
    await this.#proposeConfChange({
      type: ConfChangeType.UpdateNode,
      nodeId: id,
      context: encoder.encode(JSON.stringify({ peerURLs: urls })),
    });
  }

  /** Stops the member: timers, transport, pending requests, storage. */
  async stop(reason = "stopped"): Promise<void> {
    if (this.#stopped) return;
    if (reason.startsWith("signal")) await this.#handOverLeadership();
    if (this.#stopped) return;
    this.#lastStatus = this.status();
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#noticeTimer);
    this.#sender.close();
    const stoppedError = new MemberStoppedError();
    clearTimeout(this.#waiterTimer);
    this.#waiterTimer = undefined;
    for (const w of this.#waiters.values()) w.reject(stoppedError);
    this.#waiters.clear();
    this.#parked = [];
    for (const r of [
      ...this.#readQueue,
      ...(this.#readRound?.waiters ?? []),
      ...this.#readsByIndex.flatMap((x) => x.waiters),
    ]) {
      r.reject(stoppedError);
    }
    this.#readQueue = [];
    this.#readRound = undefined;
    this.#readsByIndex = [];
    // Lets the closed peer streams end their responses before the caller closes the servers.
    await new Promise((r) => setTimeout(r, 0));
    for (let i = 0; i < 200 && this.#driving; i++) await new Promise((r) => setTimeout(r, 5));
    this.#writePendingCommit();
    this.#storage.close();
    this.#log.info("stopped member", { reason });
    this.#resolveStopped(reason);
  }

  // ------------------------------------------------------------- internals

  /**
   * Before a leader shuts down, hand leadership to the most up-to-date voter
   * and wait (at most an election timeout) for it to take over, as etcd 3.4
   * does, so clients see no election gap.
   */
  async #handOverLeadership(): Promise<void> {
    if (this.#role !== StateRole.Leader) return;
    const status = this.#raft.status();
    let best: bigint | undefined;
    let bestMatch = -1;
    for (const [id, pr] of status.progress) {
      if (id === this.id || pr.isLearner || !this.#sender.isReachable(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === undefined) return;
    this.#log.info("leadership transfer starting", { "transferee-id": formatId(best) });
    this.#raft.transferLeadership(best);
    this.#schedule();
    const deadline = Date.now() + this.#config.electionTimeoutMs;
    while (Date.now() < deadline && this.#leader === this.id && !this.#stopped) {
      await new Promise((r) => setTimeout(r, this.#config.heartbeatIntervalMs / 2));
    }
  }

  #nextId(): bigint {
    this.#idCounter = (this.#idCounter + 1n) & 0xffffn;
    if (this.#idCounter === 0n) this.#idCounter = 1n;
    // Unique per process: a random prefix plus a counter that wraps at 2^16
    // (far more than can be in flight at once).
    return this.#idPrefix + (BigInt(Date.now() & 0xffff) << 32n) + this.#idCounter * 0x10000n;
  }

  #submit(id: bigint, what: string, action: () => void): Promise<ApplyResult> {
    if (this.#stopped) return Promise.reject(new MemberStoppedError());
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    return new Promise<ApplyResult>((resolve, reject) => {
      const deadline = performance.now() + this.#requestTimeoutMs;
      this.#waiters.set(id, { resolve, reject, deadline, what });
      if (this.#waiterTimer === undefined) this.#armWaiterTimer(this.#requestTimeoutMs);
      const submit = () => {
        try {
          action();
        } catch (error) {
          if (error instanceof ProposalDroppedError) {
            // No leader (or a transfer in flight): etcd keeps the request
            // waiting until a leader appears or the request times out.
            this.#parked.push({ id, submit });
            return;
          }
          this.#waiters.delete(id);
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      submit();
      this.#schedule();
    });
  }

  #armWaiterTimer(ms: number): void {
    this.#waiterTimer = setTimeout(() => this.#expireWaiters(), Math.max(1, Math.ceil(ms)));
  }

  /** Fails the requests past their deadline, then re-arms for the oldest left. */
  #expireWaiters(): void {
    this.#waiterTimer = undefined;
    const now = performance.now();
    const expired = new Set<bigint>();
    for (const [id, w] of this.#waiters) {
      if (w.deadline > now) {
        this.#armWaiterTimer(w.deadline - now);
        break;
      }
      this.#waiters.delete(id);
      expired.add(id);
      w.reject(new RequestTimeoutError(w.what));
    }
    if (expired.size > 0 && this.#parked.length > 0) {
      this.#parked = this.#parked.filter((p) => !expired.has(p.id));
    }
  }

  async #proposeConfChange(cc: ConfChange): Promise<void> {
    const id = this.#nextId();
    // The request id rides in the context so the applier can resolve the waiter.
    const withId: ConfChange = {
      ...cc,
      context: encoder.encode(
        JSON.stringify({
          ...(cc.context.byteLength > 0 ? JSON.parse(decoder.decode(cc.context)) : {}),
          requestId: id.toString(),
        }),
      ),
    };
    const result = await this.#submit(id, "membership change", () =>
      this.#raft.proposeConfChange(withId),
    );
    if (result.error !== undefined) {
      throw new MembershipError(500, result.error.message);
    }
  }

  /**
   * True when this member has been connected to `id` without a break for
   * etcd's health interval (5 s; spec bootstrap §5.2/§5.3).
   */
  #connectedFor(id: bigint, ms = 5_000): boolean {
    if (id === this.id) return true;
    const since = this.#sender.activeSince(id);
    return since !== undefined && Date.now() - since >= ms;
  }

  /** Voters that have started: published a name (etcd's `IsStarted`). */
  #startedVoters(except?: bigint): bigint[] {
    const voters = new Set(this.#raft.confState().voters);
    return readMembers(this.store)
      .filter((m) => voters.has(m.id) && m.id !== except && (m.name !== "" || m.id === this.id))
      .map((m) => m.id);
  }

  /** etcd's `mayAddMember` under `--strict-reconfig-check`. */
  #checkAddQuorum(): void {
    const voters = this.#raft.confState().voters;
    const started = this.#startedVoters().length;
    const members = voters.length + 1;
    // Adding to a started 1-member cluster is allowed (spec §9).
    const ready = (started === 1 && members === 2) || started >= Math.floor(members / 2) + 1;
    if (!ready || !voters.every((v) => this.#connectedFor(v))) {
      this.#log.warn("rejected member add request; not enough healthy members", {
        "voting-members": voters.length,
        "started-members": started,
      });
      throw new MembershipError(500, "Internal Server Error");
    }
  }

  /** etcd's `mayRemoveMember` under `--strict-reconfig-check`. */
  #checkRemoveQuorum(id: bigint): void {
    const voters = this.#raft.confState().voters;
    if (!voters.includes(id)) return; // a learner or an unknown id
    const refuse = (msg: string) => {
      this.#log.warn(msg, { "member-id": formatId(id) });
      throw new MembershipError(500, "Internal Server Error");
    };
    const remaining = voters.length - 1;
    if (this.#startedVoters(id).length < Math.floor(remaining / 2) + 1) {
      refuse("rejected member remove request; not enough started members");
    }
    // A member that is down is not part of the active quorum: safe to remove.
    if (id !== this.id && this.#sender.activeSince(id) === undefined) return;
    const active = voters.filter((v) => this.#connectedFor(v)).length;
    if (active - 1 < 1 + Math.floor((voters.length - 1) / 2)) {
      refuse("rejected member remove request; local member has not been connected to all peers");
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    later(() => {
      this.#scheduled = false;
      void this.#drive();
    });
  }

  async #drive(): Promise<void> {
    if (this.#driving || this.#stopped) return;
    this.#driving = true;
    try {
      for (let rounds = 0; rounds < 64 && !this.#stopped && this.#raft.hasReady(); rounds++) {
        const rd = this.#raft.ready();
        await this.#handleReady(rd);
        this.#raft.advance(rd);
        if (rd.committedEntries.length > 0) this.#campaignIfAlone();
      }
    } catch (error) {
      this.#fail(error);
      return;
    } finally {
      this.#driving = false;
    }
    if (this.#noticesDue) {
      this.#noticesDue = false;
      this.#queueNotices(true);
    }
    if (this.#raft.hasReady()) this.#schedule();
  }

  /** Stops the member after an error it cannot go on from (storage, apply). */
  #fail(error: unknown): void {
    this.#fatal = error instanceof Error ? error : new Error(String(error));
    this.#log.error("member failed; stopping", { error: String(error) });
    void this.stop("fatal error");
  }

  async #handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.#onSoftState(rd.softState.lead, rd.softState.role);
    if (rd.snapshot !== undefined) await this.#installSnapshot(rd);
    // A leader's appends need not wait for its own fsync (Raft thesis §10.2.1):
    // it counts itself only once persisted, so sending first overlaps the
    // leader's disk write with the followers'. Anything that depends on a
    // new term or vote still waits for the write.
    const hs = rd.hardState;
    const leading = this.#role === StateRole.Leader;
    // A leader that applies entries here answers their writes, and tells its
    // followers of the new commit index with appends that carry no entries.
    // Those notices leave once the answers are out (see below).
    const answering = leading && rd.committedEntries.length > 0;
    const isNotice = (m: Message) =>
      answering && m.type === MessageType.App && m.entries.length === 0;
    const early =
      leading &&
      (hs === undefined || (hs.term === this.#persistedTerm && hs.vote === this.#persistedVote))
        ? rd.messages.filter((m) => m.type === MessageType.App && !isNotice(m))
        : [];
    for (const m of early) this.#send(m);
    // The streams write them only once this task ends (a queued microtask
    // feeds the stream, and node:http uncorks its socket on the next tick),
    // so a lone write gives the event loop that turn before the synchronous
    // SQLite append, which would otherwise hold its appends back (~0.2 ms).
    // Under load the turn would instead run the HTTP requests waiting in the
    // poll phase before the append and its fsync, not during the fsync: the
    // previous append must have been a lone write's too (the first request
    // after a burst of answers is alone only until the others arrive).
    if (leading && rd.entries.length > 0) {
      const now = performance.now();
      this.#appendGap = now - this.#lastAppendAt;
      this.#lastAppendAt = now;
    }
    const lone = this.#waiters.size <= 1;
    const wasLone = this.#wasLone;
    if (rd.entries.length > 0) this.#wasLone = lone;
    const turned = early.length > 0 && rd.entries.length > 0 && lone && wasLone;
    if (turned) await turn();
    // A lone write is flushed on the loop's own thread (see #persist): on the
    // leader once its appends have left (the turn above); on a follower when
    // this append and the one before each carried a single entry, which is
    // what a leader sends when its writes come one at a time.
    const single = rd.entries.length === 1;
    const inline = turned || (this.#role !== StateRole.Leader && single && this.#lastSingle);
    if (rd.entries.length > 0) this.#lastSingle = single;
    // Committed entries are durable on a quorum already (a leader counts
    // itself only once persisted), so they need not wait for this Ready's new
    // entries, as etcd hands them to its apply loop before saving to the WAL:
    // a write then waits for one fsync, not for its own and the next batch's.
    // They are applied (and answered) while those entries' fsync runs on
    // the thread pool, so neither the fsync nor a follower's acknowledgement
    // waits for the apply.
    const flushing = this.#persist(rd, inline);
    // A follower's messages (its acknowledgements) vouch for what is durable,
    // not for what is applied: once its append is flushed (inline) they leave
    // before the apply. When the leader's next append brought the commit
    // index of the write before it, that write's apply (and its watchers)
    // would otherwise sit between this append's fsync and its
    // acknowledgement, on the leader's way to its next commit.
    const ackFirst = !leading && flushing === undefined;
    if (ackFirst) this.#sendReadyMessages(rd, early, isNotice);
    const applied = rd.committedEntries.length > 0;
    try {
      if (applied) {
        for (const e of rd.committedEntries) this.#applyEntry(e);
        this.#applied = rd.committedEntries[rd.committedEntries.length - 1]!.index;
        this.#releaseReads();
      }
    } finally {
      if (flushing !== undefined) await flushing;
    }
    if (!ackFirst) this.#sendReadyMessages(rd, early, isNotice);
    if (applied) {
      await this.#maybeSnapshot();
    }
    for (const rs of rd.readStates) this.#onReadState(rs.index, rs.context);
  }

  /**
   * Sends a Ready's messages but the appends sent before its flush (`early`).
   * Commit notices wait for the next turn of the event loop at the soonest
   * (see {@link #queueNotices}): the answers to the writes just applied are
   * written in this one (each a few promise steps away), and a notice written
   * first would wake a follower's process, which on cores shared with it can
   * delay the answer.
   */
  #sendReadyMessages(rd: Ready, early: Message[], isNotice: (m: Message) => boolean): void {
    const earlySet = early.length === 0 ? undefined : new Set(early);
    for (const m of rd.messages) {
      if (earlySet?.has(m)) continue;
      if (isNotice(m)) {
        if (this.#notices.size === 0) this.#noticesSince = performance.now();
        this.#notices.set(m.to, m);
        this.#queueNotices(false);
      } else this.#send(m);
    }
  }

  /**
   * A member that is the only voter need not wait an election timeout to
   * lead (after a restart too); checked once its configuration is applied.
   * Called after `advance()` and only once every committed entry is applied:
   * raft refuses to campaign while a configuration change is unapplied, and
   * finds that out by reading every unapplied entry back from the log (a
   * whole restart's worth while replaying).
   */
  #campaignIfAlone(): void {
    if (this.#campaigned || this.#leader !== NONE) return;
    if (this.#applied < this.#raft.status().commit) return;
    const { voters } = this.#raft.confState();
    if (voters.length === 1 && voters[0] === this.id) {
      this.#campaigned = true;
      this.#raft.campaign();
    }
  }

  /**
   * Writes `rd`'s entries and hard state. Returns the fdatasync still
   * running when the write must be durable and is flushed off the event loop
   * (see below); undefined once it is done. `inline` flushes a lone write
   * on this thread.
   */
  #persist(rd: Ready, inline = false): Promise<void> | undefined {
    if (rd.snapshot !== undefined && rd.entries.length === 0) return undefined; // the install wrote it
    if (rd.entries.length === 0 && rd.hardState === undefined) return undefined;
    const hs = rd.hardState;
    const termOrVote =
      hs !== undefined && (hs.term !== this.#persistedTerm || hs.vote !== this.#persistedVote);
    if (hs !== undefined && !termOrVote && !commitsConfChange(rd)) {
      // A commit advance (term and vote unchanged: raft marks those mustSync)
      // is not written with the entries: the latest one is written within
      // PENDING_COMMIT_MS, by the first append after that or, when none
      // comes, by a timer in a transaction of its own. Raft needs no
      // durable commit index (a restarted member learns it again from its
      // leader, or commits its log anew when alone), and an append then
      // writes the log's page alone, not the hard state's page too, so its
      // fdatasync has half the bytes to write. A committed membership change
      // is written at once, so a restart rebuilds it.
      this.#pendingCommit = hs;
      this.#pendingCommitTimer ??= setTimeout(
        () => this.#pendingCommitTimeout(),
        PENDING_COMMIT_MS,
      );
      if (rd.entries.length === 0) return undefined;
    }
    const hardState = termOrVote
      ? hs
      : commitsConfChange(rd) || this.#pendingCommitDue
        ? (hs ?? this.#pendingCommit)
        : undefined;
    if (hardState !== undefined) this.#dropPendingCommit();
    const started = performance.now();
    // A write that must be durable is committed without an fsync and then
    // flushed (fdatasync of the WAL) off the event loop, which meanwhile
    // serves reads, receives acknowledgements and queues proposals; nothing
    // that depends on it (advance, the messages after it) runs before. A lone
    // write has nothing to overlap and is flushed inline (`inline`, or a
    // single member's only waiter): the hop to the thread pool and back
    // would only add to its latency, twice a thread wake-up on cores that
    // three members and their clients share (3 members at 1 connection,
    // alternating runs at equal CPU steal: 741 against 670 and 353 against
    // 282 writes/s).
    // Anything else does not block: under load the loop keeps parsing and
    // answering during the fsync (inlining a follower's or a small batch's
    // flush measured slower at 64 connections), and a leader's appends, sent
    // before the flush, leave the peer streams only once the loop turns.
    this.#storage.append(
      { ...(hardState === undefined ? {} : { hardState }), entries: rd.entries },
      { sync: false },
    );
    this.#logView.remember(rd.entries);
    if (!rd.mustSync) {
      this.#persisted(hardState);
      return undefined;
    }
    if (!inline && (this.#waiters.size > 1 || this.#raft.confState().voters.length > 1)) {
      return this.#storage.flush().then(() => this.#persisted(hardState, started));
    }
    this.#storage.flushSync();
    this.#persisted(hardState, started);
    return undefined;
  }

  /** Bookkeeping once a write is durable; `started` is when a synced one began. */
  #persisted(hardState: HardState | undefined, started?: number): void {
    if (hardState !== undefined) {
      this.#persistedTerm = hardState.term;
      this.#persistedVote = hardState.vote;
    }
    if (started === undefined) return;
    const took = performance.now() - started;
    if (took > 100) {
      this.#log.warn("slow fdatasync", {
        took: `${took.toFixed(1)}ms`,
        "expected-duration": "100ms",
      });
    }
  }

  /**
   * Writes the pending commit advance, unless a Ready is being persisted:
   * a write to the WAL while its fdatasync runs may wait for that sync
   * (the WAL's last block is under writeback), stalling the event loop, so
   * the drive's next append carries it instead (or this timer, later).
   */
  #pendingCommitTimeout(): void {
    this.#pendingCommitTimer = undefined;
    if (!this.#driving) {
      this.#writePendingCommit();
      return;
    }
    this.#pendingCommitDue = true;
    this.#pendingCommitTimer = setTimeout(() => this.#pendingCommitTimeout(), PENDING_COMMIT_MS);
  }

  #dropPendingCommit(): void {
    this.#pendingCommit = undefined;
    this.#pendingCommitDue = false;
    if (this.#pendingCommitTimer !== undefined) {
      clearTimeout(this.#pendingCommitTimer);
      this.#pendingCommitTimer = undefined;
    }
  }

  /** Writes a deferred commit advance (without an fsync, like any commit advance). */
  #writePendingCommit(): void {
    const hardState = this.#pendingCommit;
    this.#dropPendingCommit();
    if (hardState === undefined) return;
    this.#storage.append({ hardState, entries: [] }, { sync: false });
  }

  /**
   * Sends the pending commit notices on the next turn of the event loop, or,
   * while this leader's appends come within {@link NOTICE_STREAM_GAP_MS} of
   * each other, once they have waited {@link NOTICE_WAIT_MS}: the next
   * append tells a follower the commit index as its notice would (see
   * {@link #send}), and one write at a time then costs each follower one
   * message and one answer, not two of each. Writes that come further apart
   * (a lone write, a watch's writer) have their notices sent at once, so a
   * follower applies them, and its watchers hear of them, a round trip after
   * the leader.
   *
   * Unless forced (once, after a drive they waited for), they wait instead
   * for the end of a drive that is due by then: its appends carry the
   * commit index too and make a follower's notice needless. At one write at
   * a time the next request often arrives in the turn the notices were
   * waiting for, and sending them first put two more wake-ups of each
   * follower, with its answers, ahead of that request's appends.
   */
  #queueNotices(force: boolean): void {
    if (force) {
      this.#noticesForced = true;
      // A forced send does not wait out a notice timer.
      if (this.#noticeTimer !== undefined) {
        clearTimeout(this.#noticeTimer);
        this.#noticeTimer = undefined;
        this.#noticesQueued = false;
      }
    }
    if (this.#noticesQueued) return;
    this.#noticesQueued = true;
    const wait = force ? 0 : this.#noticeWait();
    if (wait > 0) {
      this.#noticeTimer = setTimeout(() => {
        this.#noticeTimer = undefined;
        this.#sendNotices();
      }, wait);
    } else later(() => this.#sendNotices());
  }

  /** How much longer the pending notices may wait for an append (ms; 0: none). */
  #noticeWait(): number {
    const now = performance.now();
    const streaming =
      this.#appendGap <= NOTICE_STREAM_GAP_MS && now - this.#lastAppendAt <= NOTICE_STREAM_GAP_MS;
    return streaming ? Math.max(0, NOTICE_WAIT_MS - (now - this.#noticesSince)) : 0;
  }

  #sendNotices(): void {
    this.#noticesQueued = false;
    const forced = this.#noticesForced;
    this.#noticesForced = false;
    if (this.#stopped || this.#notices.size === 0) return;
    if (this.#role !== StateRole.Leader) {
      this.#notices.clear(); // a former term's: its followers would refuse them
      return;
    }
    if (!forced && (this.#scheduled || this.#driving)) {
      this.#noticesDue = true;
      return;
    }
    // Notices queued after the ones this turn was for (those were carried
    // by an append meanwhile) get their own wait.
    if (!forced && this.#noticeWait() > 0) {
      this.#queueNotices(false);
      return;
    }
    const notices = [...this.#notices.values()];
    this.#notices.clear();
    for (const m of notices) this.#send(m);
  }

  #send(m: Message): void {
    if (m.type === MessageType.Snap) {
      void this.#sendSnapshot(m);
      return;
    }
    if (m.type === MessageType.App) {
      this.#sendAppend++;
      // An append tells the follower the commit index as its notice would.
      const notice = this.#notices.get(m.to);
      if (notice !== undefined && m.commit >= notice.commit) {
        this.#notices.delete(m.to);
      }
    }
    this.#sender.send(m.to, encodeMessage(m));
  }

  async #sendSnapshot(m: Message): Promise<void> {
    const reader = this.#storage.loadSnapshot();
    const wanted = m.snapshot?.metadata.index;
    if (reader === undefined || reader.metadata.index !== wanted) {
      this.#raft.reportSnapshot(m.to, false);
      this.#schedule();
      return;
    }
    this.#log.info("sending snapshot", {
      "remote-peer-id": formatId(m.to),
      "snapshot-index": wanted,
      bytes: reader.size,
    });
    const ok = await this.#sender.sendSnapshot(m.to, encodeMessage(m), reader.stream());
    if (this.#stopped) return;
    this.#raft.reportSnapshot(m.to, ok);
    this.#schedule();
  }

  async #installSnapshot(rd: Ready): Promise<void> {
    this.#writePendingCommit();
    const snap = rd.snapshot!;
    const index = snap.metadata.index;
    const chunks = this.#incoming.get(index);
    if (chunks === undefined) throw new Error(`no data received for snapshot ${index}`);
    this.#incoming.delete(index);
    this.#logView.forget();
    await this.#storage.installSnapshot(
      { index, term: snap.metadata.term, confState: snap.metadata.confState },
      chunks,
      rd.hardState === undefined ? {} : { hardState: rd.hardState },
    );
    this.store.restore(decodeChunks(chunks));
    this.#applied = index;
    this.#snapshotIndex = index;
    for (const m of readMembers(this.store)) {
      if (m.id !== this.id) this.#sender.setPeer(m.id, m.peerURLs);
    }
    this.#log.info("applied snapshot", { "snapshot-index": index });
    this.#releaseReads();
  }

  async #maybeSnapshot(): Promise<void> {
    if (this.#applied - this.#snapshotIndex < this.#config.snapshotCount) return;
    const index = this.#applied;
    const term = this.#raft.logTerm(index);
    if (term === undefined) return;
    const image = encoder.encode(this.store.snapshot());
    // Written without an fsync on this thread (on a slow disk one held the
    // event loop for over a second, past an election timeout); the log
    // behind the snapshot goes once the fdatasync on the thread pool has
    // made it durable.
    await this.#storage.saveSnapshot({ index, term, confState: this.#raft.confState() }, [image], {
      sync: false,
    });
    this.#snapshotIndex = index;
    this.#storage.flush().then(
      () => {
        if (!this.#stopped) this.#compactTo(index, image.byteLength);
      },
      (error: unknown) => {
        if (!this.#stopped) this.#fail(error);
      },
    );
  }

  /**
   * Drops the log behind the snapshot at `index` (all but the compaction
   * margin), {@link COMPACT_STEP} entries per turn of the event loop so
   * requests are served between the steps; the first step runs now. Logs
   * the snapshot once the log is compacted. A newer snapshot taken
   * meanwhile moves the target of the steps under way.
   */
  #compactTo(index: number, bytes: number): void {
    if (index <= this.#compaction.index) return; // a newer snapshot's flush came first
    this.#compaction = { index, bytes };
    if (this.#compacting) return;
    this.#compacting = true;
    const margin = this.#config.compactionMargin ?? DEFAULT_COMPACTION_MARGIN;
    const step = () => {
      if (this.#stopped) {
        this.#compacting = false;
        return;
      }
      const { index: target, bytes: size } = this.#compaction;
      try {
        const through = Math.min(target, this.#storage.firstIndex() + margin + COMPACT_STEP);
        // Unsynced: a compaction lost to a power cut leaves only entries
        // the durable snapshot holds too.
        const first = this.#storage.compact(through, { sync: false });
        if (through < target) {
          later(step);
          return;
        }
        this.#compacting = false;
        this.#log.info("saved snapshot", {
          "snapshot-index": target,
          bytes: size,
          "compacted-to": first - 1,
        });
      } catch (error) {
        this.#compacting = false;
        this.#fail(error);
      }
    };
    step();
  }

  #applyEntry(e: Entry): void {
    if (e.type === EntryType.ConfChange) {
      this.#applyConfChange(e);
      return;
    }
    if (e.data.byteLength < 8) return; // a leader's empty entry of its new term
    let result: ApplyResult;
    try {
      result = this.store.apply(decodeRequest(e.data.subarray(8)));
    } catch (error) {
      // A request that cannot be decoded changes nothing, on every member alike.
      this.#log.error("skipped an undecodable entry", { index: e.index, error: String(error) });
      result = {};
    }
    // No one waits while a restart replays its log: the id is not even read.
    if (this.#waiters.size === 0) return;
    const id = new DataView(e.data.buffer, e.data.byteOffset, 8).getBigUint64(0);
    const waiter = this.#waiters.get(id);
    if (waiter !== undefined) {
      this.#waiters.delete(id);
      waiter.resolve(result);
    }
  }

  #applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    const ctx =
      cc.context.byteLength > 0
        ? (JSON.parse(decoder.decode(cc.context)) as { peerURLs?: string[]; requestId?: string })
        : {};
    let error: string | undefined;
    if (isRemovedMember(this.store, cc.nodeId)) {
      error = `membership: ID removed`;
    } else {
      this.#raft.applyConfChange(cc);
      switch (cc.type) {
        case ConfChangeType.AddNode:
        case ConfChangeType.AddLearnerNode:
        case ConfChangeType.UpdateNode: {
          const urls = ctx.peerURLs ?? [];
          this.store.apply({
            method: "INTERNAL",
            key: raftAttributesKey(cc.nodeId),
            value: raftAttributesValue(urls),
          });
          if (cc.nodeId !== this.id) this.#sender.setPeer(cc.nodeId, urls);
          this.#log.info(
            cc.type === ConfChangeType.UpdateNode ? "updated member" : "added member",
            { "member-id": formatId(cc.nodeId), "member-peer-urls": urls },
          );
          break;
        }
        case ConfChangeType.RemoveNode:
          this.store.apply({ method: "INTERNAL", key: raftAttributesKey(cc.nodeId), value: null });
          this.store.apply({ method: "INTERNAL", key: removedKey(cc.nodeId), value: "removed" });
          this.#sender.removePeer(cc.nodeId);
          this.#log.info("removed member", { "member-id": formatId(cc.nodeId) });
          break;
      }
    }
    if (ctx.requestId !== undefined) {
      const waiter = this.#waiters.get(BigInt(ctx.requestId));
      if (waiter !== undefined) {
        this.#waiters.delete(BigInt(ctx.requestId));
        waiter.resolve(
          error === undefined
            ? {}
            : { error: { errorCode: 0, message: error, cause: "", index: 0 } },
        );
      }
    }
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.id) {
      // Let the entry's acknowledgement leave before stopping.
      setTimeout(() => this.#stopRemoved(), this.#config.heartbeatIntervalMs * 2);
    }
  }

  #stopRemoved(): void {
    if (this.#stopped) return;
    this.#log.error("the member has been permanently removed from the cluster");
    void this.stop("removed");
  }

  #onSoftState(lead: bigint, role: StateRole): void {
    const wasLeader = this.#role === StateRole.Leader;
    if (lead !== this.#leader) {
      if (lead === NONE) {
        this.#log.warn("lost leader", { "lost-leader-id": formatId(this.#leader) });
      } else {
        this.#log.info(role === StateRole.Leader ? "became leader" : "elected leader", {
          "leader-id": formatId(lead),
          term: this.#raft.currentTerm,
        });
        this.#leaderSince = new Date();
      }
    }
    this.#leader = lead;
    this.#role = role;
    if (lead !== NONE && this.#parked.length > 0) {
      const parked = this.#parked;
      this.#parked = [];
      for (const p of parked) p.submit();
    }
    if (role === StateRole.Leader && !wasLeader) {
      if (this.store.internalValue(VERSION_KEY) === undefined) {
        void this.#submitInternal(VERSION_KEY, CLUSTER_VERSION).catch(() => {});
      }
    }
    if (lead !== NONE) {
      this.#catchUp();
      this.#issueReadRound();
      // Publish at once rather than on the next 500 ms tick: etcd serves
      // clients only after its attributes are published (ReadyNotify).
      void this.#publishAttributes();
    }
  }

  /**
   * One ReadIndex round once a leader is known: when it is answered, every
   * entry committed before this member started is applied. A restarted
   * member whose records already hold its attributes publishes nothing, and
   * its saved commit index may be behind (it is written lazily, see
   * {@link #persist}): alone, it would otherwise answer reads without writes
   * it acknowledged before a crash until its election.
   */
  #catchUp(): void {
    if (this.#caughtUp || this.#catchingUp || this.#stopped || this.#leader === NONE) return;
    this.#catchingUp = true;
    this.linearizableBarrier().then(
      () => {
        this.#caughtUp = true;
        this.#catchingUp = false;
      },
      () => {
        this.#catchingUp = false; // retried on a later tick
      },
    );
  }

  #submitInternal(key: string, value: string | null): Promise<ApplyResult> {
    return this.propose({ method: "INTERNAL", key, value });
  }

  async #publishAttributes(): Promise<void> {
    if (this.#stopped || this.#publishing || this.#leader === NONE) return;
    const wanted = attributesValue(this.#config.name, this.#config.clientUrls);
    if (this.store.internalValue(attributesKey(this.id)) === wanted) return;
    if (isRemovedMember(this.store, this.id)) return;
    if (this.store.internalValue(raftAttributesKey(this.id)) === undefined) return;
    this.#publishing = true;
    try {
      await this.#submitInternal(attributesKey(this.id), wanted);
      this.#log.info("published local member to cluster through raft", {
        "local-member-attributes": wanted,
        "cluster-id": formatId(this.clusterId),
      });
    } catch (error) {
      this.#log.warn("failed to publish local member to cluster through raft", {
        error: String(error),
      });
    } finally {
      this.#publishing = false;
    }
  }

  #expirySweep(): void {
    if (this.#stopped || this.#role !== StateRole.Leader) return;
    // etcd's leader proposes a SYNC every 500 ms while any node has a TTL.
    if (this.store.nextExpiration() === undefined) return;
    const time = Date.now() * 1000;
    void this.propose({ method: "SYNC", time }).catch(() => {});
  }

  #issueReadRound(): void {
    if (this.#readRound !== undefined || this.#readQueue.length === 0 || this.#stopped) return;
    if (this.#leader === NONE) return; // issued when a leader is known
    // Reads that timed out meanwhile (a /health check's, say) need no round.
    const waiters = this.#readQueue.filter((w) => !w.settled);
    this.#readQueue = [];
    if (waiters.length === 0) return;
    const ctx = `${this.#readCounter++}`;
    this.#readRound = { ctx, waiters, issuedAt: Date.now() };
    try {
      this.#raft.readIndex(encoder.encode(ctx));
    } catch {
      // Dropped (no leader after all): retried on the next tick.
    }
    this.#schedule();
  }

  /** Re-issues a round that got lost (a leader change drops pending ReadIndex requests). */
  #checkReadRound(): void {
    const round = this.#readRound;
    if (round === undefined) {
      this.#issueReadRound();
      return;
    }
    if (Date.now() - round.issuedAt < this.#config.electionTimeoutMs) return;
    this.#readRound = undefined;
    this.#readQueue = [...round.waiters.filter((w) => !w.settled), ...this.#readQueue];
    this.#issueReadRound();
  }

  #onReadState(index: number, context: Uint8Array): void {
    const round = this.#readRound;
    if (round === undefined || decoder.decode(context) !== round.ctx) return;
    this.#readRound = undefined;
    if (this.#applied >= index) {
      for (const w of round.waiters) w.resolve();
    } else {
      this.#readsByIndex.push({ index, waiters: round.waiters });
    }
    this.#issueReadRound();
  }

  #releaseReads(): void {
    if (this.#readsByIndex.length === 0) return;
    const keep: { index: number; waiters: ReadWaiter[] }[] = [];
    for (const r of this.#readsByIndex) {
      if (r.index <= this.#applied) for (const w of r.waiters) w.resolve();
      else keep.push(r);
    }
    this.#readsByIndex = keep;
  }
}

// ------------------------------------------------------------- bootstrap

interface Ids {
  id: bigint;
  clusterId: bigint;
}

function readMeta(storage: RaftStorage): Ids | undefined {
  const rows = storage.database.prepare(`SELECT key, value FROM ${META_TABLE}`).all() as {
    key: string;
    value: string;
  }[];
  const map = new Map(rows.map((r) => [r.key, r.value]));
  const id = map.get("member-id");
  const clusterId = map.get("cluster-id");
  if (id === undefined || clusterId === undefined) return undefined;
  return { id: parseId(id), clusterId: parseId(clusterId) };
}

function writeMeta(storage: RaftStorage, ids: Ids): void {
  const db = storage.database;
  db.transaction(() => {
    const put = db.prepare(
      `INSERT INTO ${META_TABLE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    );
    put.run("member-id", formatId(ids.id));
    put.run("cluster-id", formatId(ids.clusterId));
  });
}

function decodeChunks(chunks: Uint8Array[]): string {
  const d = new TextDecoder();
  let out = "";
  for (const c of chunks) out += d.decode(c, { stream: true });
  return out + d.decode();
}

interface RemoteMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

async function fetchRemoteMembers(
  config: MemberConfig,
  urls: readonly string[],
): Promise<{ members: RemoteMember[]; clusterId: bigint } | undefined> {
  const f = config.fetch ?? fetch;
  for (const url of urls) {
    try {
      const res = await f(`${url}/members`, { signal: AbortSignal.timeout(3_000) });
      if (!res.ok) continue;
      const members = (await res.json()) as RemoteMember[];
      const cid = res.headers.get("x-etcd-cluster-id");
      if (cid === null || !Array.isArray(members)) continue;
      return { members, clusterId: parseId(cid) };
    } catch {
      // try the next peer
    }
  }
  return undefined;
}

async function bootstrapNew(
  config: MemberConfig,
): Promise<Ids & { members: { id: bigint; peerUrls: readonly string[] }[] }> {
  const { members, clusterId } = bootstrapIdentity(
    config.initialCluster,
    config.initialClusterToken,
  );
  const self = members.find((m) => m.name === config.name);
  if (self === undefined) {
    throw new BootstrapError(
      `couldn't find local name "${config.name}" in the initial cluster configuration`,
    );
  }
  if (!sameUrls(self.peerUrls, config.peerUrls)) {
    throw new BootstrapError(
      `--initial-cluster has ${config.name}=${self.peerUrls.join(",")} but missing from --initial-advertise-peer-urls=${config.peerUrls.join(",")}`,
    );
  }
  // etcd's isMemberBootstrapped: if a live peer already lists this member
  // with client URLs, it ran before and its data is gone; refuse to start.
  const others = members.filter((m) => m.id !== self.id).flatMap((m) => m.peerUrls);
  if (others.length > 0) {
    const remote = await fetchRemoteMembers(config, others);
    const me = remote?.members.find((m) => m.id === formatId(self.id));
    if (me !== undefined && me.clientURLs.length > 0) {
      throw new BootstrapError(`member ${formatId(self.id)} has already been bootstrapped`);
    }
  }
  return { id: self.id, clusterId, members };
}

async function joinExisting(config: MemberConfig): Promise<Ids & { remote: MemberInfo[] }> {
  const peerUrls = [...config.initialCluster]
    .filter(([name]) => name !== config.name)
    .flatMap(([, urls]) => urls);
  const remote = await fetchRemoteMembers(config, peerUrls);
  if (remote === undefined) {
    throw new BootstrapError(
      "cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs",
    );
  }
  const describe = () =>
    `{ClusterID:${formatId(remote.clusterId)} Members:[${remote.members
      .map(
        (m) =>
          `&{ID:${m.id} RaftAttributes:{PeerURLs:[${m.peerURLs.join(" ")}]} Attributes:{Name:${m.name} ClientURLs:[${m.clientURLs.join(" ")}]}}`,
      )
      .join(" ")}]}`;
  // etcd's ValidateClusterAndAssignIDs: the local view must list the same
  // members (by peer URLs) as the running cluster.
  const local = [...config.initialCluster.values()];
  if (local.length !== remote.members.length) {
    throw new BootstrapError(`error validating peerURLs ${describe()}: member count is unequal`);
  }
  for (const urls of local) {
    if (!remote.members.some((m) => sameUrls(m.peerURLs, urls))) {
      throw new BootstrapError(
        `error validating peerURLs ${describe()}: unmatched member while checking PeerURLs`,
      );
    }
  }
  const me = remote.members.find((m) => sameUrls(m.peerURLs, config.peerUrls));
  if (me === undefined) {
    throw new BootstrapError(
      `error validating peerURLs ${describe()}: unmatched member while checking PeerURLs`,
    );
  }
  return {
    id: parseId(me.id),
    clusterId: remote.clusterId,
    remote: remote.members.map((m) => ({
      id: parseId(m.id),
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
    })),
  };
}
