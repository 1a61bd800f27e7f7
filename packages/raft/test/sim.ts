/**
 * A deterministic simulator of a Raft cluster under faults. Everything random comes
 * from one seed, so a failing run replays exactly. Members exchange messages through
 * the binary codec over a network that drops, delays, duplicates and reorders them,
 * and partitions members both ways or one way. Members crash (losing everything they
 * had not persisted through a Ready) and restart from their MemoryLogStorage;
 * membership changes while all this goes on. After every step the Raft safety
 * properties are checked:
 * - Election Safety: at most one leader per term;
 * - Log Matching: two logs with an entry of the same index and term agree on its data
 *   and on the term before it (so, inductively, on the whole prefix);
 * - Leader Completeness / no lost commit: a committed entry never changes, and every new
 *   leader holds every committed entry;
 * - State Machine Safety: every member applies the same sequence (a hash chain);
 * - ReadIndex linearizability: a read index covers every write completed before the
 *   read began.
 */
import {
  ConfChangeInProgressError,
  ConfChangeType,
  decodeConfChange,
  decodeMessage,
  type Entry,
  EntryType,
  encodeMessage,
  InvalidConfChangeError,
  MemoryLogStorage,
  type Message,
  MessageType,
  ProposalDroppedError,
  RaftNode,
  type RandomSource,
  type Ready,
  StateRole,
  seededRandom,
} from "../src/index.js";

export interface SimOptions {
  seed: number;
  /** Initial voters (3, 5 or 7). */
  size: number;
  /** Faulty steps before the final healing phase. */
  steps: number;
}

export interface SimResult {
  committed: number;
  leaders: number;
  reads: number;
  crashes: number;
  confChanges: number;
  snapshots: number;
  /** Snapshots delivered to a member that fell behind the compacted log. */
  snapshotsSent: number;
  transfers: number;
  /** Readies finished on a later step than they were persisted. */
  asyncReadies: number;
  steps?: number;
}

interface AppState {
  index: number;
  hash: number;
}

interface SimMember {
  id: bigint;
  raft: RaftNode | null;
  /** A Ready persisted but not yet finished (asynchronous persistence). */
  pending: { rd: Ready; snapApp: AppState | undefined } | null;
  storage: MemoryLogStorage;
  app: AppState;
  /** The app state stored with the storage's snapshot. */
  snapApp: AppState;
}

interface InFlight {
  at: number;
  bytes: Uint8Array;
  from: bigint;
  to: bigint;
  type: MessageType;
}

const enc = new TextEncoder();
const EMPTY_APP: AppState = { index: 0, hash: 0x811c9dc5 };

function keyOf(e: Entry): string {
  let s = `${e.type}:`;
  for (let i = 0; i < e.data.byteLength; i++) s += String.fromCharCode(e.data[i]!);
  return s;
}

function mix(hash: number, s: string): number {
  let h = hash;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

export class SimulationError extends Error {
  constructor(seed: number, step: number, message: string) {
    super(`seed ${seed}, step ${step}: ${message}`);
    this.name = "SimulationError";
  }
}

export class Simulation {
  private readonly rand: RandomSource;
  private readonly members = new Map<bigint, SimMember>();
  private readonly removed = new Set<bigint>();
  private net: InFlight[] = [];
  private readonly cut = new Set<string>();
  private now = 0;
  private nextId: bigint;
  private proposalSeq = 0;
  private readSeq = 0;
  // Fault rates for this seed.
  private readonly dropRate: number;
  private readonly dupRate: number;
  private readonly maxDelay: number;
  private readonly crashRate: number;
  private readonly partitionRate: number;
  private readonly confRate: number;
  private readonly preVote: boolean;
  private readonly asyncRate: number;
  private readonly checkQuorum: boolean;
  // What the checks remember.
  private readonly leaderOfTerm = new Map<number, bigint>();
  private readonly entryAt = new Map<string, { key: string; prevTerm: number }>();
  private readonly committedAt = new Map<number, { term: number; key: string }>();
  private readonly hashAt = new Map<number, number>();
  private maxApplied = 0;
  private readonly pendingReads = new Map<string, { member: bigint; floor: number }>();
  private healing = false;
  private finalIndex = 0;
  readonly result: SimResult = {
    committed: 0,
    leaders: 0,
    reads: 0,
    crashes: 0,
    confChanges: 0,
    snapshots: 0,
    snapshotsSent: 0,
    transfers: 0,
    asyncReadies: 0,
  };

  constructor(private readonly opts: SimOptions) {
    this.rand = seededRandom(opts.seed);
    const r = this.rand;
    this.dropRate = r() < 0.3 ? 0 : r() * 0.2;
    this.dupRate = r() * 0.05;
    this.maxDelay = 1 + Math.floor(r() * 8);
    this.crashRate = r() < 0.3 ? 0 : r() * 0.01;
    this.partitionRate = r() * 0.02;
    this.confRate = r() < 0.4 ? 0 : r() * 0.01;
    this.preVote = r() < 0.8;
    this.asyncRate = r() < 0.5 ? 0 : r() * 0.5;
    this.checkQuorum = r() < 0.8;
    const peers = Array.from({ length: opts.size }, (_, i) => BigInt(i + 1));
    this.nextId = BigInt(opts.size + 1);
    for (const id of peers) this.start(id, new MemoryLogStorage(), peers, EMPTY_APP);
  }

  private fail(message: string): never {
    throw new SimulationError(this.opts.seed, this.now, message);
  }

  private start(
    id: bigint,
    storage: MemoryLogStorage,
    peers: bigint[] | undefined,
    snapApp: AppState,
  ): void {
    const raft = new RaftNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      random: seededRandom(Math.floor(this.rand() * 2 ** 31)),
      maxSizePerMsg: 64 + Math.floor(this.rand() * 512),
      maxInflightMsgs: 1 + Math.floor(this.rand() * 8),
      // Cluster-wide settings, as in a real deployment (mixing them can wedge elections).
      preVote: this.preVote,
      checkQuorum: this.checkQuorum,
      ...(peers !== undefined ? { peers } : {}),
    });
    this.members.set(id, {
      id,
      raft,
      pending: null,
      storage,
      app: { ...snapApp },
      snapApp: { ...snapApp },
    });
  }

  private alive(): SimMember[] {
    return [...this.members.values()].filter((m) => m.raft !== null);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rand() * xs.length)];
  }

  private leader(): SimMember | undefined {
    let best: SimMember | undefined;
    for (const m of this.alive()) {
      if (m.raft!.state === StateRole.Leader) {
        if (best === undefined || m.raft!.currentTerm > best.raft!.currentTerm) best = m;
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- actions

  /** Runs the faulty phase, then heals everything and checks the cluster makes progress. */
  run(): SimResult {
    for (let i = 0; i < this.opts.steps; i++) this.step();
    this.heal();
    this.result.steps = this.now;
    return this.result;
  }

  private step(): void {
    this.now++;
    const r = this.rand();
    if (r < 0.25) {
      for (const m of this.alive()) m.raft!.tick();
    } else if (r < 0.45) {
      this.propose();
    } else if (r < 0.5) {
      this.read();
    } else if (!this.healing && r < 0.5 + this.crashRate * 10) {
      this.crashOrRestart();
    } else if (!this.healing && r < 0.6 + this.partitionRate * 5) {
      this.repartition();
    } else if (!this.healing && r < 0.6 + this.partitionRate * 5 + this.confRate * 10) {
      this.changeMembership();
    } else if (r < 0.7) {
      this.snapshot();
    } else if (r < 0.705) {
      this.transfer();
    }
    // Members handle their Readies at their own pace.
    for (const m of this.alive()) {
      if (this.healing || this.rand() < 0.7) this.handleReady(m);
    }
    this.deliver();
  }

  private propose(): void {
    const m = this.pick(this.alive());
    if (m === undefined) return;
    const n = this.rand() < 0.2 ? 1 + Math.floor(this.rand() * 10) : 1;
    const batch: Uint8Array[] = [];
    for (let i = 0; i < n; i++) batch.push(enc.encode(`p${this.proposalSeq++}`));
    try {
      if (n === 1) m.raft!.propose(batch[0]!);
      else m.raft!.proposeBatch(batch);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private read(): void {
    const m = this.pick(this.alive());
    if (m === undefined) return;
    const ctx = `r${this.readSeq++}`;
    try {
      m.raft!.readIndex(enc.encode(ctx));
      // Every write completed (applied anywhere) before now must be covered.
      this.pendingReads.set(ctx, { member: m.id, floor: this.maxApplied });
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private crashOrRestart(): void {
    const down = [...this.members.values()].filter(
      (m) => m.raft === null && !this.removed.has(m.id),
    );
    const up = this.alive();
    // Keep a quorum of the initial size able to come back; restart before crashing more.
    if (down.length > 0 && (this.rand() < 0.6 || up.length <= Math.ceil(this.opts.size / 2))) {
      const m = this.pick(down)!;
      this.restart(m);
    } else if (up.length > 1) {
      const m = this.pick(up)!;
      m.raft = null;
      this.result.crashes++;
    }
  }

  private restart(m: SimMember): void {
    this.start(m.id, m.storage, undefined, m.snapApp);
  }

  private repartition(): void {
    const ids = [...this.members.keys()];
    const r = this.rand();
    if (r < 0.4) {
      this.cut.clear();
    } else if (r < 0.7) {
      // Isolate one member both ways.
      const a = this.pick(ids)!;
      for (const b of ids) {
        if (b === a) continue;
        this.cut.add(`${a}>${b}`);
        this.cut.add(`${b}>${a}`);
      }
    } else {
      // Cut one direction of one link.
      const a = this.pick(ids)!;
      const b = this.pick(ids)!;
      if (a !== b) this.cut.add(`${a}>${b}`);
    }
  }

  private changeMembership(): void {
    const l = this.leader();
    if (l === undefined) return;
    const cs = l.raft!.confState();
    const r = this.rand();
    let type: (typeof ConfChangeType)[keyof typeof ConfChangeType];
    let nodeId: bigint;
    if (cs.learners.length > 0 && r < 0.3) {
      type = ConfChangeType.AddNode;
      nodeId = cs.learners[0]!;
    } else if (cs.voters.length > 3 && r < 0.6) {
      type = ConfChangeType.RemoveNode;
      nodeId = this.pick(cs.voters)!;
    } else if (cs.voters.length + cs.learners.length < 7) {
      type = this.rand() < 0.5 ? ConfChangeType.AddNode : ConfChangeType.AddLearnerNode;
      nodeId = this.nextId++;
      // The new member starts empty and learns the log (or a snapshot) from the leader.
      this.start(nodeId, new MemoryLogStorage(), undefined, EMPTY_APP);
    } else {
      return;
    }
    try {
      l.raft!.proposeConfChange({ type, nodeId, context: new Uint8Array(0) });
      this.result.confChanges++;
    } catch (err) {
      if (
        !(err instanceof ConfChangeInProgressError) &&
        !(err instanceof ProposalDroppedError) &&
        !(err instanceof InvalidConfChangeError)
      ) {
        throw err;
      }
    }
  }

  private transfer(): void {
    const l = this.leader();
    if (l === undefined) return;
    const to = this.pick(l.raft!.confState().voters.filter((id) => id !== l.id));
    if (to === undefined) return;
    l.raft!.transferLeadership(to);
    this.result.transfers++;
  }

  private snapshot(): void {
    const m = this.pick(this.alive());
    if (m === undefined || m.pending !== null || m.raft!.hasReady()) return;
    const snapIndex = m.storage.snapshot().metadata.index;
    if (m.app.index <= snapIndex) return;
    m.storage.createSnapshot(m.app.index, m.raft!.confState(), enc.encode(JSON.stringify(m.app)));
    m.snapApp = { ...m.app };
    const keep = Math.floor(this.rand() * 5);
    const compactTo = m.app.index - keep;
    if (compactTo >= m.storage.firstIndex()) m.storage.compact(compactTo);
    this.result.snapshots++;
  }

  private send(msg: Message): void {
    const bytes = encodeMessage(msg);
    const copies = this.rand() < this.dupRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + Math.floor(this.rand() * this.maxDelay);
      this.net.push({ at, bytes, from: msg.from, to: msg.to, type: msg.type });
    }
  }

  private deliver(): void {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const f of this.net) (f.at <= this.now ? due : later).push(f);
    this.net = later;
    // Reorder: deliver what is due in random order.
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const f of due) {
      const to = this.members.get(f.to);
      const lost =
        to === undefined ||
        to.raft === null ||
        this.removed.has(f.to) ||
        this.cut.has(`${f.from}>${f.to}`) ||
        (!this.healing && this.rand() < this.dropRate);
      const sender = this.members.get(f.from)?.raft ?? null;
      if (f.type === MessageType.Snap && sender !== null) sender.reportSnapshot(f.to, !lost);
      if (lost) {
        if (sender !== null && this.rand() < 0.3) sender.reportUnreachable(f.to);
        continue;
      }
      if (f.type === MessageType.Snap) this.result.snapshotsSent++;
      to.raft!.step(decodeMessage(f.bytes));
    }
  }

  // ---------------------------------------------------------------- the Ready loop and checks

  /**
   * Performs a member's Ready. Some seeds persist at once but finish (send, apply,
   * advance) on a later step, with messages stepped in between — as a member whose
   * disk writes are asynchronous would.
   */
  private handleReady(m: SimMember): void {
    const raft = m.raft;
    if (raft === null) return; // stopped earlier in this step
    if (m.pending !== null) {
      if (this.healing || this.rand() < 0.5) this.finishReady(m, raft, m.pending);
      return;
    }
    if (!raft.hasReady()) return;
    const rd = raft.ready();
    if (rd.softState !== undefined && rd.softState.role === StateRole.Leader) {
      this.checkNewLeader(m);
    }
    // Persist (the snapshot's app state is part of what is persisted).
    let snapApp: AppState | undefined;
    if (rd.snapshot !== undefined) {
      m.storage.applySnapshot(rd.snapshot);
      snapApp = JSON.parse(new TextDecoder().decode(rd.snapshot.data)) as AppState;
      m.snapApp = { ...snapApp };
    }
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    this.checkAppended(m, rd);
    // A crash after persisting, before sending, loses only the messages.
    if (!this.healing && this.rand() < this.crashRate * 0.2) {
      m.raft = null;
      this.result.crashes++;
      return;
    }
    const pending = { rd, snapApp };
    if (!this.healing && this.rand() < this.asyncRate) {
      m.pending = pending;
      this.result.asyncReadies++;
      return;
    }
    this.finishReady(m, raft, pending);
  }

  private finishReady(
    m: SimMember,
    raft: RaftNode,
    { rd, snapApp }: { rd: Ready; snapApp: AppState | undefined },
  ): void {
    m.pending = null;
    for (const msg of rd.messages) this.send(msg);
    // Apply.
    if (rd.snapshot !== undefined && snapApp !== undefined) {
      const app = snapApp;
      if (app.index !== rd.snapshot.metadata.index) this.fail("snapshot data/index mismatch");
      this.checkHash(m, app.index, app.hash);
      m.app = { ...app };
    }
    for (const e of rd.committedEntries) this.apply(m, e);
    for (const rs of rd.readStates) {
      const ctx = new TextDecoder().decode(rs.context);
      const p = this.pendingReads.get(ctx);
      // A duplicated response answers a read twice; the caller matches contexts.
      if (p === undefined) continue;
      if (p.member !== m.id) this.fail(`read state ${ctx} of ${p.member} reached ${m.id}`);
      this.pendingReads.delete(ctx);
      if (rs.index < p.floor) {
        this.fail(`read ${ctx} at index ${rs.index} misses a write completed at ${p.floor}`);
      }
      this.result.reads++;
    }
    raft.advance(rd);
  }

  private checkNewLeader(m: SimMember): void {
    const raft = m.raft!;
    const term = raft.currentTerm;
    const prev = this.leaderOfTerm.get(term);
    if (prev !== undefined && prev !== m.id) {
      this.fail(`two leaders in term ${term}: ${prev} and ${m.id}`);
    }
    this.leaderOfTerm.set(term, m.id);
    this.result.leaders++;
    // Leader Completeness: the new leader holds every committed entry.
    const first = raft.status().firstIndex;
    for (const [index, c] of this.committedAt) {
      if (index < first) continue;
      const t = raft.logTerm(index);
      if (t !== c.term) {
        this.fail(
          `leader ${m.id} (term ${term}) lacks committed entry ${index} (term ${c.term}, has ${t})`,
        );
      }
    }
  }

  private checkAppended(m: SimMember, rd: Ready): void {
    for (const e of rd.entries) {
      if (e.index < m.storage.firstIndex()) continue;
      const prevTerm = e.index - 1 >= m.storage.firstIndex() - 1 ? m.storage.term(e.index - 1) : -1;
      const k = `${e.index}/${e.term}`;
      const seen = this.entryAt.get(k);
      const key = keyOf(e);
      if (seen === undefined) {
        this.entryAt.set(k, { key, prevTerm });
      } else {
        if (seen.key !== key) this.fail(`log matching: entry ${k} differs on member ${m.id}`);
        if (seen.prevTerm >= 0 && prevTerm >= 0 && seen.prevTerm !== prevTerm) {
          this.fail(`log matching: entry before ${k} differs on member ${m.id}`);
        }
      }
    }
  }

  private checkHash(m: SimMember, index: number, hash: number): void {
    const want = this.hashAt.get(index);
    if (want === undefined) this.hashAt.set(index, hash);
    else if (want !== hash) this.fail(`member ${m.id} applied a different sequence up to ${index}`);
  }

  private apply(m: SimMember, e: Entry): void {
    if (e.index !== m.app.index + 1) {
      this.fail(`member ${m.id} applies ${e.index} after ${m.app.index}`);
    }
    const key = keyOf(e);
    const c = this.committedAt.get(e.index);
    if (c === undefined) {
      this.committedAt.set(e.index, { term: e.term, key });
      if (key === "0:final") this.finalIndex = e.index;
      this.result.committed++;
    } else if (c.term !== e.term || c.key !== key) {
      this.fail(`committed entry ${e.index} changed (term ${c.term} -> ${e.term}) on ${m.id}`);
    }
    m.app = { index: e.index, hash: mix(m.app.hash, `${e.index}/${e.term}/${key}`) };
    this.checkHash(m, m.app.index, m.app.hash);
    if (e.index > this.maxApplied) this.maxApplied = e.index;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      const before = m.raft!.confState();
      m.raft!.applyConfChange(cc);
      if (
        cc.type === ConfChangeType.RemoveNode &&
        before.voters.concat(before.learners).includes(cc.nodeId)
      ) {
        // A removed member shuts down (as etcd's does) and its id is never reused.
        this.removed.add(cc.nodeId);
        const gone = this.members.get(cc.nodeId);
        if (gone !== undefined && gone !== m) gone.raft = null;
      }
    }
  }

  /** Heals every fault and checks that a leader emerges and a proposal commits everywhere. */
  private heal(): void {
    this.healing = true;
    this.cut.clear();
    for (const m of this.members.values()) {
      if (m.raft === null && !this.removed.has(m.id)) this.restart(m);
    }
    for (const id of this.removed) {
      const m = this.members.get(id);
      if (m !== undefined) m.raft = null;
    }
    const marker = enc.encode("final");
    let proposedAt = -1;
    for (let i = 0; i < 3000; i++) {
      this.step();
      const l = this.leader();
      if (l === undefined) continue;
      if (proposedAt < 0) {
        try {
          l.raft!.propose(marker);
          proposedAt = this.now;
        } catch (err) {
          if (!(err instanceof ProposalDroppedError)) throw err;
        }
        continue;
      }
      // Done when every live voter and learner of the leader's configuration applied it.
      const fin = this.finalIndex;
      if (fin > 0) {
        const cs = l.raft!.confState();
        const done = cs.voters.concat(cs.learners).every((id) => {
          const m = this.members.get(id);
          return m === undefined || m.raft === null || m.app.index >= fin;
        });
        if (done) return;
      }
      // A proposal lost with a deposed leader is proposed again.
      if (this.now - proposedAt > 400) proposedAt = -1;
    }
    const states = [...this.members.values()].map((m) => {
      if (m.raft === null) return `${m.id}: down${this.removed.has(m.id) ? " (removed)" : ""}`;
      const st = m.raft.status();
      return `${m.id}: role ${st.role} term ${st.term} lead ${st.lead} commit ${st.commit} applied ${st.applied} app ${m.app.index} last ${st.lastIndex} voters ${st.confState.voters} learners ${st.confState.learners}`;
    });
    this.fail(
      `no progress after healing: no leader, or the final proposal never applied\n${states.join("\n")}`,
    );
  }
}

/** Runs one simulation; throws a {@link SimulationError} naming the seed on any violation. */
export function simulate(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
