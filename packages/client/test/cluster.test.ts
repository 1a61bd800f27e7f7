import { type AddressInfo, createServer } from "node:net";
import { type EtcdCluster, freePort } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, ClusterUnavailableError, EtcdError, type RequestInfo } from "../src/index.js";
import { servers } from "./support/servers.js";

describe.each(servers("@cairn/client cluster tests"))(
  "client against a 3-member cluster of $name",
  (server) => {
    let cluster: EtcdCluster;
    beforeAll(async () => {
      cluster = await server.start(3);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it("does every keys operation with typed results and typed v2 errors", async () => {
      const c = new Client({ endpoints: cluster.endpoints });
      const set = await c.set("/ops/a", "1");
      expect(set.action).toBe("set");
      expect(set.node).toMatchObject({ key: "/ops/a", value: "1" });
      expect(set.index).toBe(set.node.modifiedIndex);

      const created = await c.create("/ops/b", "x", { ttl: 100 });
      expect(created.action).toBe("create");
      expect(created.node.ttl).toBeGreaterThan(90);
      const dup = await c.create("/ops/b", "y").catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(EtcdError);
      expect(dup).toMatchObject({
        errorCode: 105,
        etcdMessage: "Key already exists",
        cause: "/ops/b",
      });
      expect((dup as EtcdError).message).toMatch(/^105: Key already exists \(\/ops\/b\) \[\d+\]$/);

      const cas = await c.set("/ops/a", "2", { prevValue: "1" });
      expect(cas.action).toBe("compareAndSwap");
      expect(cas.prevNode?.value).toBe("1");
      const casFail = await c.set("/ops/a", "3", { prevValue: "nope" }).catch((e: unknown) => e);
      expect(casFail).toMatchObject({ errorCode: 101, cause: "[nope != 2]" });

      const upd = await c.update("/ops/a", "4");
      expect(upd.action).toBe("update");
      const missing = await c.update("/ops/none", "x").catch((e: unknown) => e);
      expect(missing).toMatchObject({ errorCode: 100, status: 404 });

      await c.mkdir("/ops/d");
      const q1 = await c.createInOrder("/ops/q", "first");
      const q2 = await c.createInOrder("/ops/q", "second");
      expect(q2.node.key > q1.node.key).toBe(true);
      const list = await c.get("/ops", { recursive: true, sorted: true });
      expect(list.node.dir).toBe(true);
      expect(list.node.nodes?.map((n) => n.key)).toEqual(["/ops/a", "/ops/b", "/ops/d", "/ops/q"]);

      const refreshed = await c.refresh("/ops/b", 200);
      expect(refreshed.node.value).toBe("x");
      expect(refreshed.node.ttl).toBeGreaterThan(190);

      const del = await c.delete("/ops/a", { prevIndex: upd.node.modifiedIndex });
      expect(del.action).toBe("compareAndDelete");
      const notEmpty = await c.delete("/ops/q", { dir: true }).catch((e: unknown) => e);
      expect(notEmpty).toMatchObject({ errorCode: 108 });
      expect((await c.delete("/ops", { recursive: true })).action).toBe("delete");
    });

    it("reads members, leader, health, version, stats and machines", async () => {
      const c = new Client({ endpoints: cluster.endpoints });
      const members = await c.listMembers();
      expect(members.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3"]);
      for (const m of members) expect(m.id).toMatch(/^[0-9a-f]{1,16}$/);
      const leader = await c.leader();
      expect(members.map((m) => m.id)).toContain(leader.id);
      // A quorum read given one second: a starved host can miss it, so ask again.
      await expect
        .poll(() => c.health(), { timeout: 10_000, interval: 1_000 })
        .toEqual({
          health: true,
          status: 200,
        });
      expect((await c.version()).etcdserver).toMatch(/^3\.4\.\d+$/);
      expect((await c.storeStats()).setsSuccess).toBeTypeOf("number");
      expect((await c.selfStats()).name).toMatch(/^m\d$/);
      expect((await c.machines()).sort()).toEqual(cluster.members.map((m) => m.clientUrl).sort());
    });

    it("syncs to the members' client URLs from a single endpoint", async () => {
      const seen: RequestInfo[] = [];
      const c = new Client({
        endpoints: cluster.members[1]!.clientUrl,
        onRequest: (r) => seen.push(r),
      });
      const eps = await c.sync();
      expect([...eps].sort()).toEqual(cluster.members.map((m) => m.clientUrl).sort());
      expect(seen[0]).toEqual({
        method: "GET",
        url: `${cluster.members[1]!.clientUrl}/v2/members`,
      });
      // the endpoint that answered stays pinned
      await c.get("/", { quorum: false });
      expect(new URL(seen[1]!.url).origin).toBe(cluster.members[1]!.clientUrl);
    });

    it("reports every endpoint's failure when none answers", async () => {
      const [p1, p2] = [await freePort(), await freePort()];
      const c = new Client({ endpoints: [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`] });
      const err = await c.get("/x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClusterUnavailableError);
      const ce = err as ClusterUnavailableError;
      expect(ce.isConnectionFailure()).toBe(true);
      expect(ce.message).toBe(
        "client: etcd cluster is unavailable or misconfigured; " +
          `error #0: dial tcp 127.0.0.1:${p1}: connect: connection refused\n` +
          `; error #1: dial tcp 127.0.0.1:${p2}: connect: connection refused\n`,
      );
      expect(ce.detail()).toBe(
        `error #0: dial tcp 127.0.0.1:${p1}: connect: connection refused\n` +
          `error #1: dial tcp 127.0.0.1:${p2}: connect: connection refused\n`,
      );
    });

    it("bounds each attempt by the request timeout and the call by the total timeout", async () => {
      // A server that accepts connections and never answers.
      const silent = createServer(() => {});
      await new Promise<void>((r) => silent.listen({ host: "127.0.0.1", port: 0 }, r));
      const addr = silent.address() as AddressInfo;
      const hang = `http://127.0.0.1:${addr.port}`;
      try {
        // The bound must also leave the live member time for a replicated
        // write: on 2 shared cores 300 ms was once not enough for etcd's.
        const c = new Client({
          endpoints: [hang, cluster.members[0]!.clientUrl],
          requestTimeoutMs: 3_000,
        });
        const t0 = Date.now();
        await c.set("/to/k", "v");
        expect(Date.now() - t0).toBeGreaterThanOrEqual(2_950);
        const only = new Client({ endpoints: hang, requestTimeoutMs: 0 });
        const err = await only.get("/to/k", { timeoutMs: 300 }).catch((e: unknown) => e);
        expect(err).toMatchObject({
          name: "ClientTimeoutError",
          message: "context deadline exceeded",
        });
        const each = new Client({ endpoints: hang, requestTimeoutMs: 200 });
        const err2 = await each.get("/to/k").catch((e: unknown) => e);
        expect(err2).toBeInstanceOf(ClusterUnavailableError);
        expect((err2 as ClusterUnavailableError).errors[0]?.message).toMatch(/awaiting headers/);
      } finally {
        silent.close();
      }
    });

    // Last in the file: it stops a member.
    it("fails over to another member when the pinned one dies, and keeps serving", async () => {
      const [m1, m2, m3] = cluster.members as [
        (typeof cluster.members)[0],
        (typeof cluster.members)[0],
        (typeof cluster.members)[0],
      ];
      const seen: string[] = [];
      const c = new Client({
        endpoints: [m3.clientUrl, m1.clientUrl, m2.clientUrl],
        onRequest: (r) => seen.push(new URL(r.url).origin),
        // Past the members' own request timeout (5 s + 2 elections): a survivor
        // still electing answers 500 and the next is tried, even on a starved host.
        requestTimeoutMs: 15_000,
      });
      await c.set("/fo/k", "before");
      expect(seen).toEqual([m3.clientUrl]);

      await m3.process.stop("SIGKILL", 1_000);
      seen.length = 0;
      const r = await c.set("/fo/k", "after");
      expect(r.node.value).toBe("after");
      // tried the dead member first, then moved on (a survivor may answer 5xx while
      // it elects a new leader, then the next one is tried) and pinned the one that answered
      expect(seen[0]).toBe(m3.clientUrl);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      const pinned = seen[seen.length - 1]!;
      expect([m1.clientUrl, m2.clientUrl]).toContain(pinned);
      seen.length = 0;
      expect((await c.get("/fo/k")).node.value).toBe("after");
      expect(seen).toEqual([pinned]);

      // a freshly synced client skips nothing it needs: the dead member is still listed but not pinned
      const fresh = new Client({ endpoints: m2.clientUrl });
      await fresh.sync();
      expect((await fresh.get("/fo/k", { quorum: true })).node.value).toBe("after");
    });
  },
);
