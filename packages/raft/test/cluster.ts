/**
 * A small in-process cluster for scenario tests: every member has a MemoryLogStorage
 * and performs its Ready batches faithfully (persist, send, apply, advance). Messages
 * are delivered by `settle()` until the cluster is quiet; links can be cut.
 */
import {
  ConfChangeType,
  decodeConfChange,
  type Entry,
  EntryType,
  MemoryLogStorage,
  type Message,
  type MessageType,
  type RaftConfig,
  RaftNode,
  type ReadState,
  StateRole,
  seededRandom,
} from "../src/index.js";

export interface Member {
  id: bigint;
  raft: RaftNode;
  storage: MemoryLogStorage;
  /** Normal entries with data, in applied order, as strings. */
  applied: string[];
  appliedIndex: number;
  readStates: ReadState[];
  /** The app state restored from the last installed snapshot. */
  snapshotData: string[];
}

export type ClusterOptions = Partial<Omit<RaftConfig, "id" | "storage" | "peers">>;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export class Cluster {
  readonly members = new Map<bigint, Member>();
  queue: Message[] = [];
  /** Links that drop messages, as "from>to". */
  readonly cut = new Set<string>();
  /** Every message delivered, for assertions. */
  readonly delivered: Message[] = [];
  /** Optional filter: return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined;
  private readonly options: ClusterOptions;

  constructor(ids: bigint[], options: ClusterOptions = {}) {
    this.options = options;
    for (const id of ids) this.addMember(id, ids);
  }

  /** Creates a member; `peers` bootstraps a new cluster, none means it joins one. */
  addMember(id: bigint, peers?: bigint[], extra: ClusterOptions = {}): Member {
    const storage = new MemoryLogStorage();
    const raft = new RaftNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      random: seededRandom(Number(id) * 7919),
      ...this.options,
      ...extra,
      ...(peers !== undefined ? { peers } : {}),
    });
    const m: Member = {
      id,
      raft,
      storage,
      applied: [],
      appliedIndex: 0,
      readStates: [],
      snapshotData: [],
    };
    this.members.set(id, m);
    return m;
  }

  member(id: bigint): Member {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  raft(id: bigint): RaftNode {
    return this.member(id).raft;
  }

  /** Restarts a member from what it persisted (its unpersisted state is lost). */
  restart(id: bigint, extra: ClusterOptions = {}): Member {
    const old = this.member(id);
    const raft = new RaftNode({
      id,
      storage: old.storage,
      electionTick: 10,
      heartbeatTick: 1,
      random: seededRandom(Number(id) * 104729),
      ...this.options,
      ...extra,
    });
    const m: Member = {
      ...old,
      raft,
      applied: [...old.snapshotData],
      appliedIndex: old.storage.snapshot().metadata.index,
    };
    this.members.set(id, m);
    return m;
  }

  isolate(id: bigint): void {
    for (const other of this.members.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Performs one member's Ready, if any; returns whether there was one. */
  handleReady(m: Member): boolean {
    if (!m.raft.hasReady()) return false;
    const rd = m.raft.ready();
    if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    for (const msg of rd.messages) this.queue.push(msg);
    if (rd.snapshot !== undefined) {
      m.applied = dec
        .decode(rd.snapshot.data)
        .split("\n")
        .filter((s) => s !== "");
      m.snapshotData = [...m.applied];
      m.appliedIndex = rd.snapshot.metadata.index;
    }
    for (const e of rd.committedEntries) this.apply(m, e);
    m.readStates.push(...rd.readStates);
    m.raft.advance(rd);
    return true;
  }

  private apply(m: Member, e: Entry): void {
    if (e.index !== m.appliedIndex + 1) {
      throw new Error(`member ${m.id} applies ${e.index} after ${m.appliedIndex}`);
    }
    m.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      m.raft.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.byteLength > 0) {
      m.applied.push(dec.decode(e.data));
    }
  }

  /** Takes a snapshot of member `id` at its applied index and compacts its log behind it. */
  snapshotAndCompact(id: bigint, keep = 0): void {
    const m = this.member(id);
    const index = m.appliedIndex;
    m.storage.createSnapshot(index, m.raft.confState(), enc.encode(m.applied.join("\n")));
    m.snapshotData = [...m.applied];
    if (index - keep > m.storage.firstIndex() - 1) m.storage.compact(index - keep);
  }

  /** Delivers messages and performs Readies until nothing moves (bounded). */
  settle(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const m of this.members.values()) moved = this.handleReady(m) || moved;
      const q = this.queue;
      this.queue = [];
      for (const msg of q) {
        moved = true;
        if (this.cut.has(`${msg.from}>${msg.to}`)) continue;
        if (this.filter !== undefined && !this.filter(msg)) continue;
        const to = this.members.get(msg.to);
        if (to === undefined) continue;
        this.delivered.push(msg);
        to.raft.step(msg);
      }
      if (!moved) return;
    }
    throw new Error("cluster did not settle");
  }

  /** Ticks every member `n` times, settling after each tick. */
  tick(n = 1, only?: bigint[]): void {
    for (let i = 0; i < n; i++) {
      for (const m of this.members.values()) {
        if (only === undefined || only.includes(m.id)) m.raft.tick();
      }
      this.settle();
    }
  }

  /** Makes `id` campaign and settles. */
  elect(id: bigint): void {
    this.settle(); // a restarted member applies its committed conf changes first
    this.raft(id).campaign();
    this.settle();
  }

  leaders(): bigint[] {
    return [...this.members.values()]
      .filter((m) => m.raft.state === StateRole.Leader)
      .map((m) => m.id);
  }

  leader(): bigint | undefined {
    const ls = this.leaders();
    return ls.length === 1 ? ls[0] : undefined;
  }

  propose(id: bigint, s: string): void {
    this.raft(id).propose(enc.encode(s));
    this.settle();
  }

  addNode(via: bigint, id: bigint, type: "voter" | "learner" = "voter"): void {
    this.raft(via).proposeConfChange({
      type: type === "voter" ? ConfChangeType.AddNode : ConfChangeType.AddLearnerNode,
      nodeId: id,
      context: new Uint8Array(0),
    });
    this.settle();
  }

  removeNode(via: bigint, id: bigint): void {
    this.raft(via).proposeConfChange({
      type: ConfChangeType.RemoveNode,
      nodeId: id,
      context: new Uint8Array(0),
    });
    this.settle();
  }

  /** Messages of a type that were delivered. */
  deliveredOf(type: MessageType): Message[] {
    return this.delivered.filter((m) => m.type === type);
  }
}
