import type {
  Backend,
  KeyResult,
  ReadRequest,
  WatchRequest,
  WatchSignal,
  WatchSink,
  WatchStart,
} from "@cairn/kv-api";
import { readStore, watchStore } from "@cairn/kv-api";
import { type Logger, Member, RequestTimeoutError, silentLogger } from "@cairn/server";
import { v2ErrorData, type WriteRequest } from "@cairn/v2store";

/**
 * The part of kv-api's {@link Backend} the discovery service uses: key writes,
 * key reads, watches and health. Any full `Backend` (kv-api's `LocalBackend`,
 * a member's) satisfies it, and so does {@link EmbeddedStore}.
 */
export type DiscoveryBackend = Pick<Backend, "propose" | "read" | "watch" | "health">;

/** How {@link EmbeddedStore.open} sets up the store. */
export interface EmbeddedStoreOptions {
  /** Directory of the store (`--data-dir`); created when missing. */
  readonly dataDir: string;
  readonly logger?: Logger;
  /**
   * Watch history kept for `waitIndex` (default 10 000). The index is global
   * to the service, so every token's writes push other tokens' waiters
   * forward; a history larger than etcd's 1000 keeps a busy service from
   * answering a bootstrapping member with 401 (event index cleared).
   */
  readonly historySize?: number;
  /** Bound on waiting for the single member to elect itself (default 10 s). */
  readonly readyTimeoutMs?: number;
}

/** etcd's answer when a proposal times out. */
const TIMEOUT_CAUSE = "etcdserver: request timed out";

/**
 * The service's own durable store: a single-member Cairn cluster on SQLite in
 * the data directory. The member is its only voter, so it elects itself at
 * once and needs no peer listener; its peer URL only enters the member id
 * (bootstrap.md §1) and is never dialled.
 */
export class EmbeddedStore implements DiscoveryBackend {
  readonly #member: Member;

  private constructor(member: Member) {
    this.#member = member;
  }

  /**
   * Opens (or creates) the store in `dataDir` and resolves once its member
   * leads, so the first request is not parked behind an election.
   */
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const member = await Member.open({
      name: "discovery",
      dataDir: options.dataDir,
      peerUrls: [SELF_PEER_URL],
      clientUrls: [],
      initialCluster: new Map([["discovery", [SELF_PEER_URL]]]),
      initialClusterState: "new",
      initialClusterToken: "cairn-discovery",
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      snapshotCount: 10_000,
      strictReconfigCheck: true,
      historySize: options.historySize ?? 10_000,
      logger: options.logger ?? silentLogger,
    });
    member.start();
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    while (!member.status().isLeader) {
      if (Date.now() > deadline) {
        await member.stop("not ready");
        throw new EmbeddedStoreError(`the store in ${options.dataDir} did not become ready`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return new EmbeddedStore(member);
  }

  #head(): { raftIndex: number; raftTerm: number } {
    const s = this.#member.status();
    return { raftIndex: s.commitIndex, raftTerm: s.term };
  }

  async propose(request: WriteRequest): Promise<KeyResult> {
    try {
      const r = await this.#member.propose(request);
      const out: KeyResult = this.#head();
      if (r.event !== undefined) out.event = r.event;
      if (r.error !== undefined) out.error = r.error;
      return out;
    } catch (error) {
      if (error instanceof RequestTimeoutError) {
        return {
          error: v2ErrorData(300, TIMEOUT_CAUSE, this.#member.store.index),
          ...this.#head(),
        };
      }
      throw error;
    }
  }

  // The only member applies every committed entry before a proposal
  // resolves, so a local read is already linearizable.
  async read(request: ReadRequest): Promise<KeyResult> {
    return readStore(this.#member.store, request, this.#head());
  }

  async watch(request: WatchRequest, sink: WatchSink, signal: WatchSignal): Promise<WatchStart> {
    return watchStore(this.#member.store, request, sink, signal, this.#head());
  }

  async health(): Promise<boolean> {
    return this.#member.status().isLeader;
  }

  /** Stops the member and closes the database; pending requests fail. */
  async close(): Promise<void> {
    await this.#member.stop("discovery service stopped");
  }
}

/** The embedded member's peer URL: part of its id only, never listened on or dialled. */
const SELF_PEER_URL = "http://127.0.0.1:2380";

/** The embedded store could not be opened or did not become ready. */
export class EmbeddedStoreError extends Error {
  override readonly name = "EmbeddedStoreError";
  readonly code = "EMBEDDED_STORE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
