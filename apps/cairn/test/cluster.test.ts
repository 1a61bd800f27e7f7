/**
 * Story: three members started from static flags form one cluster; a write
 * through any member is seen by all; they agree on ids, membership and the
 * leader. Once per runtime: every member of a cluster runs under Node, Bun or
 * Deno (issue 6, "the same 3-member scenario once under Bun and once under Deno").
 */
import { RUNTIMES, stopAll } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import {
  Cluster,
  expectedClusterId,
  expectedMemberId,
  get,
  put,
  request,
  type V2Node,
} from "./support/cluster.js";

afterAll(stopAll);

describe.each(RUNTIMES)("3-member cluster [%s]", (runtime) => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it(`3-member cluster [${runtime}]: static bootstrap, writes through every member, reads agree`, async () => {
    cluster = await Cluster.start({ runtime, waitPublished: false });
    const { members } = cluster;

    // Identity (spec bootstrap §1): ids from peer URL + token, cluster id from the ids.
    const ids = members.map((m) => expectedMemberId([m.peerUrl], cluster!.token));
    const clusterId = expectedClusterId(ids);

    // The first user write gets index 2N+1+1 = 8: one raft-attributes record per
    // member, one attributes record per member, the cluster version (spec bootstrap §2).
    // etcd serves clients only once its attributes are published (so a member
    // that answers /health has published): the index is 8 as soon as all three are healthy.
    const first = await put(members[1]!, "/story/first", { value: "one" });
    expect(first.status).toBe(201);
    expect
      .soft(first.text, "first user write after all members are healthy")
      .toBe(
        '{"action":"set","node":{"key":"/story/first","value":"one","modifiedIndex":8,"createdIndex":8}}\n',
      );
    expect.soft(first.headers.get("x-etcd-index")).toBe("8");
    expect(first.headers.get("x-etcd-cluster-id")).toBe(clusterId);
    const firstNode = (first.json as { node: V2Node }).node;

    // From here on the story needs every member's name published (etcd has
    // that before /health answers; see above), so it waits for it.
    await cluster.waitPublished();

    // One write through each member, in turn: indexes follow one another.
    let base = 0;
    for (const [i, m] of members.entries()) {
      const res = await put(m, `/story/${m.name}`, { value: `from ${m.name}` });
      expect(res.status, res.text).toBe(201);
      const index = (res.json as { node: V2Node }).node.modifiedIndex;
      if (i === 0) base = index;
      expect(index).toBe(base + i);
      expect(res.headers.get("x-etcd-index")).toBe(String(index));
      expect(res.headers.get("x-etcd-cluster-id")).toBe(clusterId);
    }
    const want: V2Node[] = [
      firstNode,
      ...members.map((m, i) => ({
        key: `/story/${m.name}`,
        value: `from ${m.name}`,
        modifiedIndex: base + i,
        createdIndex: base + i,
      })),
    ].sort((a, b) => (a.key < b.key ? -1 : 1));

    // quorum=true is linearizable: every member answers with every write at once.
    for (const m of members) {
      const res = await get(m, "/story", "recursive=true&sorted=true&quorum=true");
      expect(res.status, `${m.name}: ${res.text}`).toBe(200);
      expect((res.json as { node: V2Node }).node.nodes).toEqual(want);
      expect(res.headers.get("x-etcd-cluster-id")).toBe(clusterId);
    }
    // A plain GET reads the local store; it agrees too (at the latest once applied).
    const bodies = await Promise.all(
      members.map(async (m) => {
        for (let i = 0; i < 100; i++) {
          const res = await get(m, "/story", "recursive=true&sorted=true");
          if (
            JSON.stringify((res.json as { node?: V2Node }).node?.nodes) === JSON.stringify(want)
          ) {
            return res.text;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        return `${m.name} never caught up`;
      }),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toContain('"key":"/story/first"');

    // Membership: the same list everywhere, sorted by numeric id, names and client URLs published.
    const wantMembers = members
      .map((m, i) => ({
        id: ids[i]!,
        name: m.name,
        peerURLs: [m.peerUrl],
        clientURLs: [m.clientUrl],
      }))
      .sort((a, b) => (BigInt(`0x${a.id}`) < BigInt(`0x${b.id}`) ? -1 : 1));
    for (const m of members) {
      const res = await request(m, "/v2/members");
      expect(res.status).toBe(200);
      expect(res.text).toBe(`${JSON.stringify({ members: wantMembers })}\n`);
      expect(res.headers.get("x-etcd-cluster-id")).toBe(clusterId);
    }

    // Everyone names the same leader, and it is the one that says it leads.
    const leader = await cluster.leader();
    const leaderJson = wantMembers.find((w) => w.name === leader.name);
    for (const m of members) {
      const res = await request(m, "/v2/members/leader");
      expect(res.status).toBe(200);
      expect(res.json).toEqual(leaderJson);
    }

    // A delete through a follower is gone everywhere (quorum read).
    const follower = members.find((m) => m !== leader)!;
    const del = await request(follower, "/v2/keys/story/first", { method: "DELETE" });
    expect(del.status).toBe(200);
    for (const m of members) {
      expect((await get(m, "/story/first", "quorum=true")).status).toBe(404);
    }

    // A watch's head comes as the watch is registered, chunked, as etcd
    // sends it (a client reads X-Etcd-Index then); and the watch waits as
    // long as it takes: no idle timeout of the runtime's HTTP server may cut
    // it while no byte moves (Bun.serve's default closes a connection after
    // 10 s without one).
    const head = await fetch(`${follower.clientUrl}/v2/keys/story/late?wait=true`, {
      signal: AbortSignal.timeout(60_000),
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("transfer-encoding")).toBe("chunked");
    expect(Number(head.headers.get("x-etcd-index"))).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 12_000));
    const late = await put(leader, "/story/late", { value: "after a quiet while" });
    expect(late.status, late.text).toBe(201);
    const event = await head.text();
    expect(event).toBe(
      `{"action":"set","node":{"key":"/story/late","value":"after a quiet while","modifiedIndex":${
        (late.json as { node: V2Node }).node.modifiedIndex
      },"createdIndex":${(late.json as { node: V2Node }).node.createdIndex}}}\n`,
    );
  }, 120_000);
});
