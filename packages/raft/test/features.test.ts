import { describe, expect, it } from "vitest";
import {
  ConfChangeInProgressError,
  ConfChangeType,
  decodeConfChange,
  InvalidConfChangeError,
  MemoryLogStorage,
  MessageType,
  ProgressState,
  ProposalDroppedError,
  RaftConfigError,
  RaftNode,
  StateRole,
} from "../src/index.js";
import { bytes, Cluster } from "./cluster.js";

const dec = new TextDecoder();

/** A storage that already holds an entry (so it cannot be bootstrapped). */
function n2storage(): MemoryLogStorage {
  const s = new MemoryLogStorage();
  s.append([{ index: 1, term: 1, type: 0, data: new Uint8Array(0) }]);
  s.setHardState({ term: 1, vote: 0n, commit: 1 });
  return s;
}

describe("ReadIndex (linearizable reads)", () => {
  it("the leader answers after a heartbeat round confirms it still leads", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.propose(1n, "a");
    const before = c.deliveredOf(MessageType.HeartbeatResp).length;
    c.raft(1n).readIndex(bytes("r1"));
    c.settle();
    expect(c.deliveredOf(MessageType.HeartbeatResp).length).toBeGreaterThan(before);
    const rs = c.member(1n).readStates;
    expect(rs).toHaveLength(1);
    expect(dec.decode(rs[0]!.context)).toBe("r1");
    expect(rs[0]!.index).toBe(c.raft(1n).status().commit);
  });

  it("a leader cut off from its quorum never answers (it may have been deposed)", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(1n);
    c.raft(1n).readIndex(bytes("stale?"));
    c.settle();
    c.tick(5, [1n]);
    expect(c.member(1n).readStates).toEqual([]);
  });

  it("a follower's request is forwarded to the leader and answered to the follower", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.propose(1n, "a");
    c.raft(3n).readIndex(bytes("from-3"));
    c.settle();
    const rs = c.member(3n).readStates;
    expect(rs).toHaveLength(1);
    expect(dec.decode(rs[0]!.context)).toBe("from-3");
    // The read index covers the write that completed before the read began.
    expect(rs[0]!.index).toBeGreaterThanOrEqual(c.raft(1n).status().commit);
    expect(c.member(1n).readStates).toEqual([]);
  });

  it("a new leader waits until an entry of its term commits before answering", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    // Hold back every append so the new leader's empty entry cannot commit yet.
    c.filter = (m) => m.type !== MessageType.App;
    c.tick(1);
    c.isolate(1n);
    c.tick(30, [2n, 3n]);
    c.heal();
    const l = c.leaders().find((id) => id !== 1n);
    expect(l).toBeDefined();
    expect(c.raft(l!).status().commit).toBeLessThan(c.raft(l!).status().lastIndex);
    c.raft(l!).readIndex(bytes("early"));
    c.settle();
    expect(c.member(l!).readStates).toEqual([]);
    c.filter = undefined;
    c.tick(2);
    expect(c.member(l!).readStates.map((r) => dec.decode(r.context))).toEqual(["early"]);
  });

  it("a single-member cluster answers at once", () => {
    const c = new Cluster([1n]);
    c.settle();
    c.elect(1n);
    c.raft(1n).readIndex(bytes("solo"));
    c.settle();
    expect(c.member(1n).readStates).toHaveLength(1);
  });
});

describe("snapshots and compaction", () => {
  it("a follower behind the compacted log is caught up by a snapshot, then by appends", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    for (let i = 0; i < 30; i++) c.propose(1n, `v${i}`);
    c.tick(1);
    // The leader snapshots and drops its log behind the snapshot.
    c.snapshotAndCompact(1n);
    expect(c.member(1n).storage.firstIndex()).toBeGreaterThan(c.raft(3n).status().lastIndex + 1);
    c.heal();
    c.tick(3);
    const snaps = c.deliveredOf(MessageType.Snap).filter((m) => m.to === 3n);
    expect(snaps).toHaveLength(1);
    expect(c.member(3n).applied).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`));
    // Normal replication resumes after the snapshot.
    c.propose(1n, "after");
    c.tick(2);
    expect(c.member(3n).applied.at(-1)).toBe("after");
    expect(c.raft(1n).status().progress.get(3n)?.state).toBe(ProgressState.Replicate);
  });

  it("a lost snapshot is retried after the transport reports the failure", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    for (let i = 0; i < 5; i++) c.propose(1n, `v${i}`);
    c.tick(1);
    c.snapshotAndCompact(1n);
    c.heal();
    let dropped = 0;
    c.filter = (m) => {
      if (m.type === MessageType.Snap && dropped === 0) {
        dropped++;
        c.raft(m.from).reportSnapshot(m.to, false);
        return false;
      }
      return true;
    };
    c.tick(4);
    expect(dropped).toBe(1);
    expect(c.member(3n).applied).toHaveLength(5);
  });

  it("a restarted member recovers from its snapshot and log", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    for (let i = 0; i < 10; i++) c.propose(1n, `v${i}`);
    c.tick(1);
    c.snapshotAndCompact(2n);
    for (let i = 10; i < 15; i++) c.propose(1n, `v${i}`);
    c.tick(1);
    c.restart(2n);
    c.tick(2);
    expect(c.member(2n).applied).toEqual(Array.from({ length: 15 }, (_, i) => `v${i}`));
  });
});

describe("restart with a durable state machine", () => {
  it("passing `applied` skips what was applied; the rest is handed out again", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    for (let i = 0; i < 5; i++) c.propose(1n, `v${i}`);
    c.tick(1);
    const m = c.member(2n);
    const applied = m.appliedIndex;
    const node = new RaftNode({ id: 2n, storage: m.storage, applied: applied - 2 });
    const rd = node.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([applied - 1, applied]);
    node.advance(rd);
    expect(node.status().applied).toBe(applied);
    expect(() => new RaftNode({ id: 2n, storage: m.storage, applied: applied + 5 })).toThrow(
      /applied/,
    );
  });
});

describe("membership", () => {
  it("adds a voter that catches up and then counts for the quorum", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.propose(1n, "a");
    c.addMember(4n);
    c.addNode(1n, 4n);
    c.tick(3);
    expect(c.raft(1n).confState().voters.sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(c.member(4n).applied).toEqual(["a"]);
    expect(c.raft(4n).confState().voters).toContain(4n);
    // With 4 voters the quorum is 3: 1 and 4 alone cannot commit.
    c.isolate(2n);
    c.cut.add("1>3");
    c.cut.add("3>1");
    c.propose(1n, "needs-3");
    expect(c.member(1n).applied).toEqual(["a"]);
    c.heal();
    c.tick(2);
    expect(c.member(1n).applied).toEqual(["a", "needs-3"]);
  });

  it("refuses a second change until the first is applied (one at a time)", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.addMember(4n);
    c.addMember(5n);
    c.filter = (m) => m.type !== MessageType.AppResp;
    c.raft(1n).proposeConfChange({
      type: ConfChangeType.AddNode,
      nodeId: 4n,
      context: new Uint8Array(0),
    });
    c.settle();
    expect(() =>
      c.raft(1n).proposeConfChange({
        type: ConfChangeType.AddNode,
        nodeId: 5n,
        context: new Uint8Array(0),
      }),
    ).toThrow(ConfChangeInProgressError);
    c.filter = undefined;
    c.tick(2);
    c.addNode(1n, 5n);
    c.tick(2);
    expect(c.raft(1n).confState().voters.sort()).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it("a learner receives the log, does not vote, and can be promoted", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.addMember(4n);
    c.addNode(1n, 4n, "learner");
    c.propose(1n, "a");
    c.tick(2);
    expect(c.member(4n).applied).toEqual(["a"]);
    expect(c.raft(1n).confState().learners).toEqual([4n]);
    // A learner never campaigns, and its acknowledgements do not make a quorum.
    c.tick(40, [4n]);
    expect(c.raft(4n).state).toBe(StateRole.Follower);
    c.isolate(2n);
    c.cut.add("1>3");
    c.cut.add("3>1");
    c.propose(1n, "needs-a-voter");
    expect(c.member(1n).applied).toEqual(["a"]);
    c.heal();
    c.tick(2);
    // Promote it.
    c.addNode(1n, 4n);
    c.tick(2);
    expect(c.raft(1n).confState().voters.sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(c.raft(1n).confState().learners).toEqual([]);
    expect(() =>
      c.raft(1n).proposeConfChange({
        type: ConfChangeType.AddLearnerNode,
        nodeId: 2n,
        context: new Uint8Array(0),
      }),
    ).toThrow(InvalidConfChangeError);
  });

  it("removes a follower; it stops counting and receives nothing more", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.removeNode(1n, 3n);
    c.tick(2);
    expect(c.raft(1n).confState().voters.sort()).toEqual([1n, 2n]);
    const before = c.delivered.length;
    c.propose(1n, "two-members");
    c.tick(2);
    expect(c.delivered.slice(before).some((m) => m.to === 3n)).toBe(false);
    expect(c.member(2n).applied).toEqual(["two-members"]);
  });

  it("a leader that removes itself steps down and the others elect a new leader", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.propose(1n, "a");
    c.removeNode(1n, 1n);
    c.tick(1);
    expect(c.raft(1n).state).toBe(StateRole.Follower);
    c.tick(40);
    const l = c.leader();
    expect(l === 2n || l === 3n).toBe(true);
    c.propose(l!, "b");
    c.tick(2);
    expect(c.member(l === 2n ? 3n : 2n).applied).toEqual(["a", "b"]);
    // The removed member never campaigns again.
    c.tick(40, [1n]);
    expect(c.raft(1n).state).toBe(StateRole.Follower);
  });
});

describe("leadership transfer", () => {
  it("brings the target up to date, then it campaigns at once and wins", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    c.propose(1n, "a");
    c.heal();
    const term = c.raft(1n).currentTerm;
    c.raft(1n).transferLeadership(3n);
    // No proposals while the transfer is under way.
    expect(() => c.raft(1n).propose(bytes("x"))).toThrow(ProposalDroppedError);
    c.settle();
    expect(c.deliveredOf(MessageType.TimeoutNow)).toHaveLength(1);
    expect(c.raft(3n).state).toBe(StateRole.Leader);
    expect(c.raft(3n).currentTerm).toBe(term + 1);
    c.propose(3n, "b");
    c.tick(2);
    expect(c.member(1n).applied).toEqual(["a", "b"]);
  });

  it("a follower's transfer request is forwarded to the leader", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.raft(2n).transferLeadership(2n);
    c.settle();
    expect(c.raft(2n).state).toBe(StateRole.Leader);
  });

  it("is abandoned after an election timeout if the target does not respond", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    c.raft(1n).transferLeadership(3n);
    c.settle();
    expect(c.raft(1n).status().leadTransferee).toBe(3n);
    c.tick(10, [1n, 2n]);
    expect(c.raft(1n).status().leadTransferee).toBe(0n);
    expect(c.raft(1n).state).toBe(StateRole.Leader);
    c.propose(1n, "accepted again");
  });
});

describe("node setup", () => {
  it("rejects contradictory configuration", () => {
    const storage = new MemoryLogStorage();
    expect(() => new RaftNode({ id: 0n, storage })).toThrow(RaftConfigError);
    expect(() => new RaftNode({ id: 1n, storage, electionTick: 2, heartbeatTick: 2 })).toThrow(
      RaftConfigError,
    );
  });

  it("bootstraps a new cluster from its founding members, with their contexts", () => {
    const ctx = new TextEncoder().encode('{"name":"m2"}');
    const storage = new MemoryLogStorage();
    const n = new RaftNode({
      id: 1n,
      storage,
      peers: [1n, { id: 2n, context: ctx }],
      learners: [3n],
    });
    expect(n.confState()).toEqual({ voters: [1n, 2n], learners: [3n] });
    const rd = n.ready();
    // The entries are persisted first, then handed out to apply.
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(rd.committedEntries).toEqual([]);
    storage.append(rd.entries);
    storage.setHardState(rd.hardState!);
    n.advance(rd);
    const rd2 = n.ready();
    const ccs = rd2.committedEntries.map((e) => decodeConfChange(e.data));
    expect(ccs.map((c) => [c.type, c.nodeId])).toEqual([
      [ConfChangeType.AddNode, 1n],
      [ConfChangeType.AddNode, 2n],
      [ConfChangeType.AddLearnerNode, 3n],
    ]);
    expect(ccs[1]!.context).toEqual(ctx);
    // Applying them again changes nothing.
    for (const cc of ccs) n.applyConfChange(cc);
    expect(n.confState()).toEqual({ voters: [1n, 2n], learners: [3n] });
    n.advance(rd2);
    expect(() => new RaftNode({ id: 1n, storage: n2storage(), peers: [1n] })).toThrow(
      RaftConfigError,
    );
  });

  it("ready() twice without advance() is a caller bug", () => {
    const n = new RaftNode({ id: 1n, storage: new MemoryLogStorage(), peers: [1n] });
    expect(n.hasReady()).toBe(true);
    const rd = n.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.hardState).toEqual({ term: 1, vote: 0n, commit: 1 });
    expect(() => n.ready()).toThrow(RaftConfigError);
    n.advance(rd);
  });
});
