/**
 * Story: writes pour in from several clients; the leader is killed with
 * SIGKILL mid-stream. The other two elect a new leader within a few election
 * timeouts, writes resume, and every write that was acknowledged is on every
 * live member. The killed member restarts from its data directory with the
 * same flags and catches up.
 */
import { stopAll, waitFor } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CairnMember,
  Cluster,
  ELECTION_MS,
  get,
  put,
  selfStats,
  type V2Node,
} from "./support/cluster.js";

afterAll(stopAll);

/** All `/w/*` keys a member holds: key -> [value, modifiedIndex]. */
async function writtenKeys(
  m: CairnMember,
  quorum: boolean,
): Promise<Map<string, [string, number]>> {
  const res = await get(m, "/w", `recursive=true${quorum ? "&quorum=true" : ""}`);
  if (res.status !== 200) throw new Error(`${m.name}: ${res.status} ${res.text}`);
  const nodes = (res.json as { node: V2Node }).node.nodes ?? [];
  return new Map(nodes.map((n) => [n.key, [n.value ?? "", n.modifiedIndex]]));
}

describe("leader failure", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("SIGKILL the leader: a new leader soon, writes resume, no acknowledged write lost, the old leader catches up", async () => {
    cluster = await Cluster.start();
    const c = cluster;
    const oldLeader = await c.leader();
    const oldId = (await selfStats(oldLeader)).id;

    /** Acknowledged writes: key -> [value, modifiedIndex], and when each was acknowledged. */
    const acked = new Map<string, [string, number]>();
    const ackTimes: number[] = [];
    const failures: string[] = [];
    let stop = false;
    let seq = 0;
    // Three clients, each writing sequentially to the members it believes alive, in turn.
    const writer = async (w: number) => {
      for (let turn = w; !stop; turn++) {
        const targets = c.members.filter((m) => m.running());
        const target = targets[turn % targets.length];
        if (target === undefined) break;
        const key = `/w/k${String(seq++).padStart(5, "0")}`;
        const value = `${w}-${turn}`;
        try {
          const res = await put(target, key, { value }, 10_000);
          if (res.status === 201) {
            acked.set(key, [value, (res.json as { node: V2Node }).node.modifiedIndex]);
            ackTimes.push(Date.now());
          } else {
            failures.push(`${target.name} ${key}: ${res.status} ${res.text.trim()}`);
          }
        } catch (error) {
          failures.push(`${target.name} ${key}: ${String(error)}`);
        }
      }
    };
    const writers = [0, 1, 2].map(writer);
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      await waitFor(() => acked.size > 5, { timeoutMs: 20_000, what: "writes before the kill" });
      const beforeKill = acked.size;
      const killedAt = Date.now();
      await oldLeader.kill();

      // A new leader among the survivors, agreed by both.
      const survivors = c.members.filter((m) => m !== oldLeader);
      const newLeader = await c.leader(survivors, 30_000);
      const electedAfter = Date.now() - killedAt;
      const newStats = await selfStats(newLeader);
      expect(newStats.id).not.toBe(oldId);
      // "A few election timeouts": detection takes one, the randomized election up to two more.
      // Measured here at 0.7-0.9 s; bounded generously for a shared machine (5.7 s was seen in
      // a CI run that took 2.5 times its usual time). The measured value is logged.
      console.info(`new leader ${newLeader.name} after ${electedAfter} ms`);
      expect(electedAfter).toBeLessThan(20 * ELECTION_MS);

      // Writes resume: acknowledgements after the election.
      const resumed = Date.now();
      while (Date.now() - resumed < 15_000 && ackTimes.filter((t) => t > killedAt).length < 20) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const afterKill = ackTimes.filter((t) => t > killedAt).length;
      expect(
        afterKill,
        `writes after the kill; failures: ${failures.slice(-5).join("; ")}`,
      ).toBeGreaterThanOrEqual(20);
      stop = true;
      await Promise.all(writers);
      console.info(
        `${acked.size} writes acknowledged (${beforeKill} before the kill), ${failures.length} failed: ${failures.slice(0, 3).join("; ")}`,
      );

      // Every acknowledged write, with its value and index, is on both survivors.
      for (const m of survivors) {
        const held = await writtenKeys(m, true);
        for (const [key, v] of acked) expect(held.get(key), `${m.name} ${key}`).toEqual(v);
      }

      // The killed member restarts with the same flags and data dir, and catches up.
      oldLeader.start();
      await c.waitHealthy([oldLeader]);
      const reference = await writtenKeys(newLeader, true);
      const caughtUp = await (async () => {
        for (let i = 0; i < 200; i++) {
          const held = await writtenKeys(oldLeader, false).catch(() => new Map());
          if (held.size === reference.size) return held;
          await new Promise((r) => setTimeout(r, 100));
        }
        return writtenKeys(oldLeader, false);
      })();
      expect(caughtUp).toEqual(reference);
      for (const [key, v] of acked) expect(caughtUp.get(key), `restarted ${key}`).toEqual(v);
      expect(oldLeader.logged("restarting member")).toHaveLength(1);
      // It rejoined the same cluster as itself, under the cluster's leader
      // (the new one, or a later one if a starved host made it step down).
      const leaderNow = await selfStats(await c.leader(c.members, 30_000));
      const rejoined = await selfStats(oldLeader);
      expect(rejoined.id).toBe(oldId);
      expect(rejoined.leaderInfo.leader).toBe(leaderNow.id);
      // And it takes writes again.
      const again = await put(oldLeader, "/w/after-restart", { value: "x" });
      expect(again.status, again.text).toBe(201);
    } finally {
      // However the steps above end, no writer outlives the cluster.
      stop = true;
      await Promise.all(writers);
    }
  }, 180_000);
});
