import { describe, expect, it } from "vitest";
import { MessageType, newMessage, ProposalDroppedError, StateRole } from "../src/index.js";
import { Cluster } from "./cluster.js";

describe("election", () => {
  it("a member that campaigns in a healthy cluster becomes leader and the others follow it", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle(); // persist the bootstrap entries
    c.elect(1n);
    expect(c.raft(1n).state).toBe(StateRole.Leader);
    expect(c.raft(2n).leader).toBe(1n);
    expect(c.raft(3n).leader).toBe(1n);
    // Everyone agrees on the term and voted for 1 in it.
    const term = c.raft(1n).currentTerm;
    for (const id of [2n, 3n]) {
      expect(c.raft(id).currentTerm).toBe(term);
      expect(c.member(id).storage.hardState().vote).toBe(1n);
    }
  });

  it("with no one campaigning by hand, a leader emerges within a few election timeouts", () => {
    for (const size of [1, 3, 5, 7]) {
      const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1));
      const c = new Cluster(ids);
      let ticks = 0;
      while (c.leader() === undefined && ticks < 60) {
        c.tick(1);
        ticks++;
      }
      expect(c.leader(), `cluster of ${size}`).toBeDefined();
      // electionTick is 10; timeouts are randomized in [10, 20).
      expect(ticks).toBeLessThanOrEqual(40);
      c.propose(c.leader()!, "hello");
      c.tick(2);
      for (const m of c.members.values()) expect(m.applied).toEqual(["hello"]);
    }
  });

  it("liveness: with only a connected quorum (two of five down), a leader emerges and proposals commit", () => {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    c.settle();
    c.isolate(4n);
    c.isolate(5n);
    let ticks = 0;
    const majority = [1n, 2n, 3n];
    const leaderOfMajority = () => c.leaders().find((id) => majority.includes(id));
    while (leaderOfMajority() === undefined && ticks < 80) {
      c.tick(1);
      ticks++;
    }
    expect(leaderOfMajority()).toBeDefined();
    expect(ticks).toBeLessThanOrEqual(60); // a few election timeouts of 10 ticks
    for (let i = 0; i < 10; i++) c.propose(leaderOfMajority()!, `p${i}`);
    c.tick(2);
    const want = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const id of majority) expect(c.member(id).applied).toEqual(want);
    // The two that were down catch up once they are back.
    c.heal();
    c.tick(5);
    for (const id of [4n, 5n]) expect(c.member(id).applied).toEqual(want);
  });

  it("a candidate with a shorter log is refused (election restriction, §5.4.1)", () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: false, checkQuorum: false });
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    c.propose(1n, "a");
    c.propose(1n, "b");
    c.heal();
    // 3 missed two entries: 1 and 2 must refuse it; it does not become leader.
    c.raft(3n).campaign();
    c.settle();
    expect(c.raft(3n).state).not.toBe(StateRole.Leader);
    const refusals = c
      .deliveredOf(MessageType.VoteResp)
      .filter((m) => m.to === 3n && m.reject && m.term >= c.raft(3n).currentTerm - 1);
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    // The cluster recovers with a leader that holds both entries.
    c.tick(50);
    const l = c.leader();
    expect(l).toBeDefined();
    expect(l).not.toBe(3n);
    for (const m of c.members.values()) expect(m.applied).toEqual(["a", "b"]);
  });

  it("a split vote ends with a later election", () => {
    const c = new Cluster([1n, 2n, 3n, 4n], { preVote: false });
    c.settle();
    // 1 and 2 campaign at once; 3 votes for 1 and 4 for 2: nobody wins term 2.
    c.filter = (m) =>
      !(
        m.type === MessageType.Vote &&
        ((m.from === 1n && m.to === 4n) || (m.from === 2n && m.to === 3n))
      );
    c.raft(1n).campaign();
    c.raft(2n).campaign();
    c.settle();
    expect(c.leaders()).toEqual([]);
    c.filter = undefined;
    c.tick(60);
    expect(c.leader()).toBeDefined();
  });

  it("a proposal with no leader fails fast with a typed error", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    expect(() => c.raft(2n).propose(new Uint8Array([1]))).toThrow(ProposalDroppedError);
    try {
      c.raft(2n).propose(new Uint8Array([1]));
    } catch (err) {
      expect((err as ProposalDroppedError).code).toBe("ERAFT_PROPOSAL_DROPPED");
    }
    expect(() => c.raft(2n).readIndex(new Uint8Array([1]))).toThrow(ProposalDroppedError);
  });

  it("a follower forwards proposals to the leader, unless forwarding is switched off", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.propose(2n, "via 2");
    c.tick(2);
    expect(c.member(1n).applied).toEqual(["via 2"]);

    const d = new Cluster([1n, 2n, 3n], { disableProposalForwarding: true });
    d.settle();
    d.elect(1n);
    expect(() => d.raft(2n).propose(new Uint8Array([1]))).toThrow(ProposalDroppedError);
    d.propose(1n, "on leader");
    d.tick(2);
    expect(d.member(2n).applied).toEqual(["on leader"]);
  });

  it("a stale message from an older term is ignored", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    const term = c.raft(2n).currentTerm;
    c.raft(2n).step(
      newMessage({
        type: MessageType.App,
        from: 3n,
        to: 2n,
        term: term - 1,
        index: 0,
        logTerm: 0,
        entries: [],
      }),
    );
    expect(c.raft(2n).leader).toBe(1n);
    expect(c.raft(2n).currentTerm).toBe(term);
  });
});

describe("pre-vote and check-quorum", () => {
  it("a member returning from a partition does not disrupt a healthy leader (pre-vote)", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    const term = c.raft(1n).currentTerm;
    c.isolate(3n);
    // 3 times out again and again but its pre-votes reach no one: its term stays put.
    c.tick(100);
    expect(c.raft(3n).currentTerm).toBe(term);
    expect(c.raft(3n).state).toBe(StateRole.PreCandidate);
    c.heal();
    c.tick(5);
    expect(c.raft(1n).state).toBe(StateRole.Leader);
    expect(c.raft(1n).currentTerm).toBe(term);
    expect(c.raft(3n).leader).toBe(1n);
  });

  it("without pre-vote, the returning member's higher term forces a new election", () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: false, checkQuorum: false });
    c.settle();
    c.elect(1n);
    const term = c.raft(1n).currentTerm;
    c.isolate(3n);
    c.tick(100);
    expect(c.raft(3n).currentTerm).toBeGreaterThan(term);
    c.heal();
    c.tick(40);
    expect(c.raft(1n).currentTerm).toBeGreaterThan(term);
  });

  it("a leader cut off from a quorum steps down after an election timeout (check-quorum)", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(1n);
    c.tick(10, [1n]);
    c.tick(10, [1n]);
    expect(c.raft(1n).state).toBe(StateRole.Follower);
    expect(() => c.raft(1n).propose(new Uint8Array([1]))).toThrow(ProposalDroppedError);
  });

  it("a follower that recently heard from its leader ignores a vote request (lease)", () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: false });
    c.settle();
    c.elect(1n);
    const term = c.raft(1n).currentTerm;
    c.isolate(3n);
    c.tick(30, [3n]); // 3 campaigns alone, its term climbs
    c.heal();
    c.raft(3n).campaign();
    c.settle();
    // 2 heard from 1 within the election timeout: it ignores 3, and 1 stays leader.
    expect(c.raft(1n).state).toBe(StateRole.Leader);
    expect(c.raft(2n).currentTerm).toBe(term);
  });
});
