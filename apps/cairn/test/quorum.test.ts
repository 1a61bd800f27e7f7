/**
 * Story: two of three members are down. A write to the survivor cannot
 * commit; it fails with etcd's error once etcd's request timeout passes
 * (5 s + 2 × election timeout), a `quorum=true` read fails the same way, a
 * plain read still answers locally, and `/health` says false (even on a
 * member that still leads: it makes a quorum read, as etcd's does). When the
 * others return, the failed write is nowhere: nothing was half-applied.
 *
 * The expected error is checked against etcd 3.4.23 itself in the second
 * story (same timings, same kill), so the literal below is etcd's answer.
 */
import { etcdProgram, sleep, startEtcdCluster, stopAll } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CairnMember,
  Cluster,
  ELECTION_MS,
  get,
  put,
  REQUEST_TIMEOUT_MS,
} from "./support/cluster.js";

afterAll(stopAll);

/** etcd's body for a proposal that timed out (spec etcd-v2-api §8.2, code 300; index 0, §8.1). */
const TIMED_OUT =
  '{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: request timed out","index":0}\n';

/** etcd's `/health` of a member that has no leader or cannot read from a quorum (a Go http.Error). */
const UNHEALTHY = { status: 503, text: '{"health":"false"}\n' };

/** `/health` as a client sees it. */
async function health(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text() };
}

/** What a client sees of a failed request: status, the index header, the body, and how long it took. */
async function timedPut(
  url: string,
  key: string,
): Promise<{ status: number; index: string | null; text: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${url}/v2/keys${key}`, {
    method: "PUT",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "value=never",
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    index: res.headers.get("x-etcd-index"),
    text,
    ms: Date.now() - started,
  };
}

describe("quorum loss", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("with two of three members down, a write fails with etcd's 500/300 within its timeout and is not half-applied", async () => {
    cluster = await Cluster.start();
    const c = cluster;
    // The survivor is a follower: its write is forwarded to a leader that is
    // gone, so no log holds it. (A leader survivor comes second.)
    const leader = await c.leader();
    const survivor = c.members.find((m) => m !== leader)!;
    const [x, y] = c.members.filter((m) => m !== survivor) as [CairnMember, CairnMember];
    expect((await put(survivor, "/q/before", { value: "ok" })).status).toBe(201);
    await Promise.all([x.kill(), y.kill()]);

    const [write, quorumRead] = await Promise.all([
      timedPut(survivor.clientUrl, "/q/lost"),
      (async () => {
        const started = Date.now();
        const res = await get(survivor, "/q/before", "quorum=true");
        return {
          status: res.status,
          index: res.headers.get("x-etcd-index"),
          text: res.text,
          ms: Date.now() - started,
        };
      })(),
    ]);
    console.info(`write failed after ${write.ms} ms, quorum read after ${quorumRead.ms} ms`);
    expect.soft({ status: write.status, index: write.index, text: write.text }).toEqual({
      status: 500,
      index: "0",
      text: TIMED_OUT,
    });
    expect(write.status).toBe(500);
    expect(JSON.parse(write.text)).toMatchObject({
      errorCode: 300,
      cause: "etcdserver: request timed out",
    });
    // Within etcd's request timeout (plus slack for a loaded machine), and not before it.
    expect(write.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 2 * ELECTION_MS - 500);
    expect(write.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    expect
      .soft({ status: quorumRead.status, index: quorumRead.index, text: quorumRead.text })
      .toEqual({
        status: 500,
        index: "0",
        text: TIMED_OUT,
      });
    expect(quorumRead.status).toBe(500);
    // A plain GET reads the local store and still answers.
    expect((await get(survivor, "/q/before")).status).toBe(200);
    expect((await get(survivor, "/q/lost")).status).toBe(404);
    expect(await health(survivor.clientUrl)).toEqual(UNHEALTHY);

    // The others return: the failed write is on no member, and writes work again.
    x.start();
    y.start();
    await c.waitHealthy();
    await c.leader();
    for (const m of c.members) {
      const lost = await get(m, "/q/lost", "quorum=true");
      expect(lost.status, `${m.name}: ${lost.text}`).toBe(404);
      expect((await get(m, "/q/before", "quorum=true")).status).toBe(200);
    }
    expect((await put(survivor, "/q/after", { value: "ok" })).status).toBe(201);

    // Now the survivor is the leader: it appends the write to its own log
    // before it finds it cannot commit. etcd gives no promise on the outcome
    // of a timed-out write (it may commit once the others return, or be
    // overwritten by a new leader), but every member must end up agreeing.
    const leader2 = await c.leader();
    const [p, q] = c.members.filter((m) => m !== leader2) as [CairnMember, CairnMember];
    await Promise.all([p.kill(), q.kill()]);
    // It still leads until its check-quorum notices, but /health makes a
    // quorum read, as etcd's does, and that cannot complete.
    expect(await health(leader2.clientUrl)).toEqual(UNHEALTHY);
    const unknown = await timedPut(leader2.clientUrl, "/q/unknown");
    expect(unknown.status, unknown.text).toBe(500);
    expect(JSON.parse(unknown.text)).toMatchObject({ errorCode: 300 });
    p.start();
    q.start();
    await c.waitHealthy();
    await c.leader();
    const seen = await Promise.all(
      c.members.map(async (m) => {
        const res = await get(m, "/q/unknown", "quorum=true");
        return res.status === 404 ? "absent" : JSON.stringify((res.json as { node: unknown }).node);
      }),
    );
    console.info(`the timed-out write on a leader survivor ended: ${seen[0]}`);
    expect(new Set(seen).size, seen.join(" | ")).toBe(1);
  }, 120_000);
});

const etcd = etcdProgram();
if (etcd === undefined) {
  console.warn(
    "!!! SKIPPED: the etcd reference run of the quorum-loss error needs 'etcd', which is not installed.",
  );
}

describe.skipIf(etcd === undefined)("quorum loss on etcd 3.4.23 (the reference)", () => {
  it("etcd answers the same write with the same status, header and body", async () => {
    const cluster = await startEtcdCluster(3, {
      args: ["--heartbeat-interval", "50", "--election-timeout", String(ELECTION_MS)],
      timeoutMs: 30_000,
    });
    try {
      const [survivor, x, y] = cluster.members;
      await Promise.all([x!.process.stop("SIGKILL", 1_000), y!.process.stop("SIGKILL", 1_000)]);
      await sleep(100);
      // A survivor that still knows its leader: the quorum read times out.
      expect(await health(survivor!.clientUrl)).toEqual(UNHEALTHY);
      const write = await timedPut(survivor!.clientUrl, "/q/lost");
      console.info(`etcd: write failed after ${write.ms} ms`);
      expect({ status: write.status, index: write.index, text: write.text }).toEqual({
        status: 500,
        index: "0",
        text: TIMED_OUT,
      });
      expect(write.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 2 * ELECTION_MS - 500);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
