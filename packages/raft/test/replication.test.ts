import { describe, expect, it } from "vitest";
import { MessageType, StateRole } from "../src/index.js";
import { Cluster } from "./cluster.js";

/** The terms of a member's log from `from` to its end. */
function terms(c: Cluster, id: bigint, from: number): number[] {
  const r = c.raft(id);
  const out: number[] = [];
  for (let i = from; i <= r.status().lastIndex; i++) out.push(r.logTerm(i) ?? -1);
  return out;
}

describe("log replication", () => {
  it("proposals reach every member and are applied in the same order", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    for (let i = 0; i < 20; i++) c.raft(1n).propose(new TextEncoder().encode(`v${i}`));
    c.settle();
    c.tick(2);
    const want = Array.from({ length: 20 }, (_, i) => `v${i}`);
    for (const m of c.members.values()) expect(m.applied).toEqual(want);
    // Proposals made between two Readies travel in one append message per follower.
    const bigAppends = c.deliveredOf(MessageType.App).filter((m) => m.entries.length === 20);
    expect(bigAppends.map((m) => m.to).sort()).toEqual([2n, 3n]);
  });

  it("a leader that lost its quorum has its unreplicated entries overwritten after healing", () => {
    // Partition the leader with a minority, propose on both sides, heal, expect the
    // majority's entries everywhere and the minority's gone.
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    c.settle();
    c.elect(1n);
    c.propose(1n, "before");
    for (const a of [1n, 2n]) {
      for (const b of [3n, 4n, 5n]) {
        c.cut.add(`${a}>${b}`);
        c.cut.add(`${b}>${a}`);
      }
    }
    c.propose(1n, "lost-1");
    c.propose(1n, "lost-2");
    // The majority side elects a leader once the old one's lease has run out.
    c.tick(40);
    const nl = c.leaders().find((id) => id >= 3n);
    expect(nl).toBeDefined();
    c.propose(nl!, "kept-1");
    c.propose(4n, "kept-2");
    c.tick(2, [3n, 4n, 5n]);
    expect(c.member(2n).applied).toEqual(["before"]);
    c.heal();
    c.tick(25);
    expect(c.leader()).toBeDefined();
    for (const m of c.members.values()) {
      expect(m.applied, `member ${m.id}`).toEqual(["before", "kept-1", "kept-2"]);
    }
    const lt = terms(c, nl!, 1);
    for (const id of [1n, 2n, 4n, 5n]) expect(terms(c, id, 1)).toEqual(lt);
  });

  it("fast backtracking skips a diverged term in one round trip, not one entry at a time", () => {
    const c = new Cluster([1n, 2n, 3n], { preVote: false, checkQuorum: false });
    c.settle();
    c.elect(1n);
    c.propose(1n, "common");
    // 1 is cut off and appends 100 entries of its term that nobody else sees.
    c.isolate(1n);
    for (let i = 0; i < 100; i++) c.raft(1n).propose(new TextEncoder().encode(`stale${i}`));
    c.settle();
    // 2 becomes leader and commits 100 entries of a later term with 3.
    c.elect(2n);
    for (let i = 0; i < 100; i++) c.raft(2n).propose(new TextEncoder().encode(`new${i}`));
    c.settle();
    c.tick(2, [2n, 3n]);
    // 2 goes away; 3 is elected with 1's vote. 3's first probe to 1 lands far past the
    // point where their logs diverge (index of "common").
    c.heal();
    c.isolate(2n);
    const before = c.delivered.length;
    c.elect(3n);
    expect(c.raft(3n).state).toBe(StateRole.Leader);
    c.tick(3, [1n, 3n]);
    const rejections = c.delivered
      .slice(before)
      .filter((m) => m.type === MessageType.AppResp && m.reject && m.from === 1n);
    // One entry at a time would take 100 rejections; the term hints take one or two.
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(2);
    const want = ["common", ...Array.from({ length: 100 }, (_, i) => `new${i}`)];
    expect(c.member(1n).applied).toEqual(want);
    expect(terms(c, 1n, 1)).toEqual(terms(c, 3n, 1));
  });

  it("a follower with a missing suffix is caught up by probing then replicating", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    c.isolate(3n);
    for (let i = 0; i < 50; i++) c.propose(1n, `e${i}`);
    c.heal();
    c.tick(3);
    expect(c.member(3n).applied).toHaveLength(50);
    const pr = c.raft(1n).status().progress.get(3n);
    expect(pr?.match).toBe(c.raft(1n).status().lastIndex);
  });

  it("appends are limited per message and by the inflight window", () => {
    const c = new Cluster([1n, 2n, 3n], { maxSizePerMsg: 1, maxInflightMsgs: 4 });
    c.settle();
    c.elect(1n);
    // Hold back 2's acknowledgements: the leader may send at most 4 appends to it.
    c.filter = (m) => !(m.type === MessageType.AppResp && m.from === 2n);
    const before = c.delivered.length;
    for (let i = 0; i < 20; i++) c.raft(1n).propose(new TextEncoder().encode(`x${i}`));
    c.settle();
    const toTwo = c.delivered
      .slice(before)
      .filter((m) => m.type === MessageType.App && m.to === 2n && m.entries.length > 0);
    expect(toTwo.length).toBe(4);
    for (const m of toTwo) expect(m.entries).toHaveLength(1);
    // 3 keeps acknowledging: the quorum (1, 3) commits everything anyway.
    c.tick(2);
    expect(c.member(3n).applied).toHaveLength(20);
    c.filter = undefined;
    c.tick(5);
    expect(c.member(2n).applied).toHaveLength(20);
  });

  it("heartbeats carry the commit index to followers", () => {
    const c = new Cluster([1n, 2n, 3n]);
    c.settle();
    c.elect(1n);
    // Drop appends that would tell 3 about the new commit index.
    c.propose(1n, "x");
    const commit = c.raft(1n).status().commit;
    c.filter = (m) => !(m.type === MessageType.App && m.to === 3n);
    c.propose(1n, "y");
    c.filter = undefined;
    expect(c.raft(3n).status().commit).toBe(commit);
    c.tick(1);
    expect(c.raft(3n).status().commit).toBeGreaterThanOrEqual(commit);
  });
});

describe("safety (Raft paper §5.4)", () => {
  it("Figure 8: an entry of an earlier term on a majority is not committed by counting", () => {
    // Five members, one entry per append so entries can be lost one by one.
    const c = new Cluster([1n, 2n, 3n, 4n, 5n], {
      preVote: false,
      checkQuorum: false,
      maxSizePerMsg: 1,
    });
    c.settle();
    c.elect(1n); // term 2
    const base = c.raft(1n).status().lastIndex; // the leader's empty entry
    c.tick(2);
    const term2 = c.raft(1n).currentTerm;
    // (a) S1 replicates "x" at base+1 only to S2, then crashes.
    for (const b of [3n, 4n, 5n]) c.cut.add(`1>${b}`);
    c.propose(1n, "x");
    expect(c.raft(2n).logTerm(base + 1)).toBe(term2);
    c.isolate(1n);
    // (b) S5 is elected with S3 and S4, appends its own entry at base+1, then crashes.
    c.cut.add("5>2");
    c.cut.add("2>5");
    c.filter = (m) => !(m.type === MessageType.App && m.from === 5n);
    c.elect(5n);
    expect(c.raft(5n).state).toBe(StateRole.Leader);
    const term5 = c.raft(5n).currentTerm;
    expect(c.raft(5n).logTerm(base + 1)).toBe(term5);
    // (c) S5 crashes; S1 restarts (from what it persisted) and is elected in a later
    // term. It replicates "x" to S3, putting it on a majority (S1, S2, S3), but its
    // own-term entry is lost on the way.
    c.heal();
    c.isolate(5n);
    c.restart(1n);
    c.filter = (m) => {
      if (m.type !== MessageType.App) return true;
      if (m.from === 1n && m.to === 4n) return false;
      // S1's own-term entries never arrive (the rest of each append does).
      m.entries = m.entries.filter((e) => e.term <= term5);
      return true;
    };
    c.elect(1n);
    if (c.raft(1n).state !== StateRole.Leader) c.elect(1n);
    expect(c.raft(1n).state).toBe(StateRole.Leader);
    c.tick(3, [1n, 2n, 3n, 4n]);
    for (const id of [1n, 2n, 3n]) expect(c.raft(id).logTerm(base + 1)).toBe(term2);
    // Counting replicas would commit "x" now; Raft must not (§5.4.2).
    expect(c.raft(1n).status().commit).toBeLessThan(base + 1);
    // (d) S1 crashes; S5 restarts, is elected with S2, S3, S4, and overwrites "x".
    c.filter = undefined;
    c.heal();
    c.isolate(1n);
    c.restart(5n);
    c.elect(5n);
    if (c.raft(5n).state !== StateRole.Leader) c.elect(5n);
    expect(c.raft(5n).state).toBe(StateRole.Leader);
    c.tick(3, [2n, 3n, 4n, 5n]);
    for (const id of [2n, 3n, 4n, 5n]) {
      expect(c.raft(id).logTerm(base + 1)).toBe(term5);
    }
    // "x" was never applied anywhere: no committed entry was lost.
    for (const m of c.members.values()) expect(m.applied).not.toContain("x");
    c.heal();
    c.restart(1n);
    c.tick(5);
    expect(c.raft(1n).logTerm(base + 1)).toBe(term5);
    for (const m of c.members.values()) expect(m.applied).not.toContain("x");
  });

  it("Figure 8 (e): once the leader's own-term entry is on a majority, both commit and survive", () => {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n], { preVote: false, checkQuorum: false });
    c.settle();
    c.elect(1n);
    c.tick(2);
    for (const b of [3n, 4n, 5n]) c.cut.add(`1>${b}`);
    c.propose(1n, "x");
    c.heal();
    // S1 (same term) now reaches S3: "x" and S1's later entry reach a majority.
    c.cut.add("1>4");
    c.cut.add("1>5");
    c.propose(1n, "y");
    c.tick(2, [1n, 2n, 3n]);
    expect(c.member(1n).applied).toEqual(["x", "y"]);
    // S5, whose log lacks them, can no longer win: S2 and S3 refuse it.
    c.heal();
    c.isolate(1n);
    c.filter = (m) => !(m.from === 2n && m.to === 5n) || m.type !== MessageType.App;
    c.elect(5n);
    c.filter = undefined;
    expect(c.raft(5n).state).not.toBe(StateRole.Leader);
    c.tick(40, [2n, 3n, 4n, 5n]);
    for (const id of [2n, 3n, 4n, 5n]) expect(c.member(id).applied).toEqual(["x", "y"]);
  });

  it("Leader Completeness: every later leader holds every committed entry", () => {
    const c = new Cluster([1n, 2n, 3n, 4n, 5n]);
    c.settle();
    c.elect(1n);
    const committed: string[] = [];
    // Depose leaders one after another, each time with a different minority cut off.
    const order = [1n, 2n, 3n, 4n, 5n, 1n, 3n];
    for (let round = 0; round < order.length; round++) {
      const l = c.leader();
      expect(l).toBeDefined();
      const v = `r${round}`;
      c.propose(l!, v);
      c.tick(1);
      committed.push(v);
      const down = order[round]!;
      c.isolate(down);
      c.tick(50);
      const nl = c.leader() ?? c.leaders().find((id) => id !== down);
      expect(nl).toBeDefined();
      const applied = c.member(nl!).applied;
      expect(applied.slice(0, committed.length)).toEqual(committed);
      c.heal();
      c.tick(30);
    }
    c.tick(5);
    for (const m of c.members.values()) expect(m.applied).toEqual(committed);
  });
});
