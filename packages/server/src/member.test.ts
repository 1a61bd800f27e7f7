import { openDatabase } from "@cairn/storage";
import { freePorts, type TempDir, tempDir, waitFor } from "@cairn/testkit";
import { type ServerType, serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { BootstrapError, RequestTimeoutError } from "./errors.js";
import { formatId } from "./identity.js";
import { type Logger, silentLogger } from "./logger.js";
import { Member, type MemberConfig } from "./member.js";
import { memberDataFile } from "./standalone.js";

interface Running {
  member: Member;
  server: ServerType;
  config: MemberConfig;
}

function debugLogger(name: string): Logger {
  const t0 = Date.now();
  const line = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    console.error(`${Date.now() - t0}ms ${name} ${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = {
    debug: () => {},
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    child: () => logger,
  };
  return logger;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(): TempDir {
  const d = tempDir("cairn-member-");
  cleanups.push(() => d.remove());
  return d;
}

async function clusterConfigs(size: number, opts: Partial<MemberConfig> = {}) {
  const ports = await freePorts(size);
  const names = ports.map((_, i) => `m${i + 1}`);
  const initialCluster = new Map(
    names.map((n, i) => [n, [`http://127.0.0.1:${ports[i]}`]] as const),
  );
  return names.map(
    (name, i): MemberConfig => ({
      name,
      dataDir: dir().path,
      peerUrls: [`http://127.0.0.1:${ports[i]}`],
      clientUrls: [`http://127.0.0.1:${ports[i]! + 10_000}`],
      initialCluster,
      initialClusterState: "new",
      initialClusterToken: "member-test",
      heartbeatIntervalMs: 20,
      electionTimeoutMs: 200,
      snapshotCount: 10_000,
      strictReconfigCheck: true,
      historySize: 1000,
      logger: process.env.MEMBER_DEBUG ? debugLogger(name) : silentLogger,
      ...opts,
    }),
  );
}

async function start(config: MemberConfig): Promise<Running> {
  const member = await Member.open(config);
  const port = Number(new URL(config.peerUrls[0]!).port);
  const server = serve({ fetch: member.peerApi().fetch, hostname: "127.0.0.1", port });
  member.start();
  const running = { member, server, config };
  cleanups.push(() => stop(running));
  return running;
}

async function stop(r: Running): Promise<void> {
  await r.member.stop();
  const closed = new Promise((resolve) => r.server.close(resolve));
  // Peers keep probing a stopped member over their keep-alive connections,
  // so those never go idle for close() to end them: end them here.
  (r.server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await closed;
}

const now = () => Date.now() * 1000;

async function put(m: Member, key: string, value: string) {
  const result = await m.propose({ method: "PUT", key, value, time: now() });
  expect(result.error).toBeUndefined();
  return result.event!;
}

function leaderOf(members: Running[]): Running | undefined {
  return members.find((r) => r.member.status().isLeader);
}

describe("a single member", () => {
  it("elects itself, applies writes and shows etcd's bookkeeping indexes", async () => {
    const [config] = await clusterConfigs(1);
    const { member } = await start(config!);
    await waitFor(() => member.status().isLeader, { what: "leadership" });
    // Membership record, published attributes and cluster version: index 3
    // before the first user write, as a fresh etcd shows (spec bootstrap §2).
    await waitFor(() => member.store.index === 3, { what: "bookkeeping records" });
    const event = await put(member, "/a", "1");
    expect(event.node.modifiedIndex).toBe(4);
    expect(member.store.get("/a", { time: now() }).node.value).toBe("1");
    expect(member.members().map((m) => m.name)).toEqual(["m1"]);
  });

  it("keeps every acknowledged write across a restart, without applying any twice", async () => {
    const [config] = await clusterConfigs(1, { snapshotCount: 25 });
    let running = await start(config!);
    await waitFor(() => running.member.status().isLeader, { what: "leadership" });
    for (let i = 0; i < 60; i++) await put(running.member, `/k${i}`, `v${i}`);
    const indexBefore = running.member.store.index;
    await stop(running);
    cleanups.pop();
    running = await start(config!);
    await waitFor(() => running.member.status().isLeader, { what: "leadership after restart" });
    for (let i = 0; i < 60; i++) {
      expect(running.member.store.get(`/k${i}`, { time: now() }).node.value).toBe(`v${i}`);
    }
    await waitFor(() => running.member.store.index >= indexBefore, { what: "replay" });
    expect(running.member.store.index).toBe(indexBefore);
    const next = await put(running.member, "/after", "x");
    expect(next.node.modifiedIndex).toBe(indexBefore + 1);
  });

  it("compacts the log behind a snapshot a slice at a time, serving between the slices", async () => {
    const saved: Record<string, unknown>[] = [];
    const logger: Logger = {
      ...silentLogger,
      info: (msg, fields) => {
        if (msg === "saved snapshot") saved.push(fields ?? {});
      },
      child: () => logger,
    };
    const [config] = await clusterConfigs(1, {
      snapshotCount: 4_500,
      compactionMargin: 100,
      logger,
    });
    const { member } = await start(config!);
    await waitFor(() => member.status().isLeader, { what: "leadership" });
    // The log as another connection sees it, sampled at every turn of the
    // event loop while the writes and the compaction run.
    const db = await openDatabase(memberDataFile(config!.dataDir), { pragmas: false });
    cleanups.push(() => db.close());
    const firstIndex = db.prepare("SELECT min(idx) AS first FROM raft_entries");
    const seen = new Set<number>();
    let sampling = true;
    const sample = () => {
      seen.add(Number(firstIndex.get()?.first ?? 0));
      if (sampling) setImmediate(sample);
    };
    sample();
    for (let i = 0; i < 4_600; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => put(member, `/c${i + j}`, "v")));
    }
    await waitFor(() => saved.length > 0, { what: "saved snapshot", timeoutMs: 10_000 });
    sampling = false;
    const snapshotIndex = Number(saved[0]!["snapshot-index"]);
    expect(snapshotIndex).toBeGreaterThanOrEqual(4_500);
    expect(saved[0]!["compacted-to"]).toBe(snapshotIndex - 100);
    expect(Number(firstIndex.get()?.first)).toBe(snapshotIndex - 99);
    // 4,400 entries dropped 2,000 at a time: the loop turned between the
    // slices, and saw the log's start at an index between the two ends.
    const between = [...seen].filter((f) => f > 1 && f < snapshotIndex - 99);
    expect(between.length).toBeGreaterThan(0);
    const answered = await put(member, "/after", "x");
    expect(answered.node.modifiedIndex).toBeGreaterThan(4_600);
  }, 60_000);

  it("refuses a data directory another live member holds", async () => {
    const [config] = await clusterConfigs(1);
    await start(config!);
    await expect(Member.open(config!)).rejects.toThrow();
  });
});

describe("a three-member cluster", () => {
  it("replicates writes made through any member, and quorum reads see them", async () => {
    const configs = await clusterConfigs(3);
    const members = await Promise.all(configs.map(start));
    await waitFor(() => leaderOf(members), { what: "a leader", timeoutMs: 10_000 });
    await waitFor(() => members.every((r) => r.member.store.index === 7), {
      what: "bookkeeping (2N+1 = 7)",
      timeoutMs: 10_000,
    });
    const ids = new Set(members.map((r) => r.member.clusterId));
    expect(ids.size).toBe(1);
    for (const [i, r] of members.entries()) await put(r.member, `/via${i}`, `v${i}`);
    for (const r of members) {
      await r.member.linearizableBarrier();
      for (let i = 0; i < 3; i++) {
        expect(r.member.store.get(`/via${i}`, { time: now() }).node.value).toBe(`v${i}`);
      }
    }
    const listed = members[0]!.member.members();
    expect(listed.map((m) => m.name).sort()).toEqual(["m1", "m2", "m3"]);
    expect(listed.map((m) => formatId(m.id))).toEqual(
      [...listed.map((m) => m.id)].sort((a, b) => (a < b ? -1 : 1)).map(formatId),
    );
  });

  it("followers apply the last of a run of writes within milliseconds, not at the next heartbeat", async () => {
    // Heartbeats a second apart, so they cannot be what tells the followers
    // the commit index: the leader's commit notices (or its next append) must.
    const configs = await clusterConfigs(3, {
      heartbeatIntervalMs: 1_000,
      electionTimeoutMs: 3_000,
    });
    const members = await Promise.all(configs.map(start));
    const leader = await waitFor(() => leaderOf(members), { what: "a leader", timeoutMs: 20_000 });
    const followers = members.filter((r) => r !== leader);
    const lags: number[] = [];
    // Runs of writes one at a time (their notices wait for the next append),
    // each followed by a lone one after a pause (its notices go at once).
    for (const run of [30, 1, 30, 1, 30, 1]) {
      await new Promise((r) => setTimeout(r, 50));
      let index = 0;
      for (let i = 0; i < run; i++)
        index = (await put(leader.member, "/run", `${i}`)).node.modifiedIndex;
      const acked = performance.now();
      await waitFor(() => followers.every((f) => f.member.store.index >= index), {
        what: `followers at ${index}`,
        timeoutMs: 5_000,
        intervalMs: 2,
      });
      lags.push(performance.now() - acked);
    }
    // Waiting for heartbeats, every lag after the first is 0.8-1 s. The median
    // (not the worst) keeps one fsync stalled on a starved host from deciding.
    const median = [...lags].sort((x, y) => x - y)[lags.length / 2]!;
    expect(median, lags.map((l) => l.toFixed(1)).join(", ")).toBeLessThan(400);
  });

  it("elects a new leader when the leader dies and loses no acknowledged write", async () => {
    const configs = await clusterConfigs(3);
    const members = await Promise.all(configs.map(start));
    const first = await waitFor(() => leaderOf(members), { what: "a leader" });
    for (let i = 0; i < 20; i++) await put(first.member, `/k${i}`, `v${i}`);
    const firstTerm = first.member.status().term;
    await stop(first);
    const rest = members.filter((r) => r !== first);
    const second = await waitFor(() => leaderOf(rest), { what: "a new leader", timeoutMs: 10_000 });
    expect(second.member.status().term).toBeGreaterThan(firstTerm);
    await put(second.member, "/after", "x");
    for (const r of rest) {
      await r.member.linearizableBarrier();
      for (let i = 0; i < 20; i++) {
        expect(r.member.store.get(`/k${i}`, { time: now() }).node.value).toBe(`v${i}`);
      }
    }
    // The old leader comes back and catches up.
    const again = await start(first.config);
    await waitFor(
      () => {
        try {
          return again.member.store.get("/after", { time: now() }).node.value === "x";
        } catch {
          return false;
        }
      },
      { what: "restarted member caught up", timeoutMs: 10_000 },
    );
  });

  it("fails a write within the request timeout when quorum is lost, and applies nothing", async () => {
    const configs = await clusterConfigs(3, { electionTimeoutMs: 100, heartbeatIntervalMs: 10 });
    const members = await Promise.all(configs.map(start));
    const leader = await waitFor(() => leaderOf(members), { what: "a leader" });
    const survivor = members.find((r) => r !== leader)!;
    await put(leader.member, "/before", "ok");
    await waitFor(
      () => {
        try {
          return survivor.member.store.get("/before", { time: now() }).node.value === "ok";
        } catch {
          return false;
        }
      },
      { what: "replicated" },
    );
    for (const r of members) if (r !== survivor) await stop(r);
    const started = Date.now();
    await expect(
      survivor.member.propose({ method: "PUT", key: "/lost", value: "x", time: now() }),
    ).rejects.toBeInstanceOf(RequestTimeoutError);
    // 5 s + 2 × election timeout, as etcd (with room for a starved machine's timers).
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(Date.now() - started).toBeLessThan(9_000);
    expect(() => survivor.member.store.get("/lost", { time: now() })).toThrow();
  }, 20_000);

  it("catches a member that missed many writes up by snapshot", async () => {
    const configs = await clusterConfigs(3, { snapshotCount: 50, compactionMargin: 5 });
    const members = await Promise.all(configs.map(start));
    const leader = await waitFor(() => leaderOf(members), { what: "a leader" });
    const lagging = members.find((r) => r !== leader)!;
    await stop(lagging);
    // Ten at a time: they share fsyncs, keeping the test quick on a slow disk.
    for (let i = 0; i < 300; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => put(leader.member, `/s${i + j}`, `v${i + j}`)),
      );
    }
    const back = await start(lagging.config);
    await waitFor(
      () => {
        try {
          return back.member.store.get("/s299", { time: now() }).node.value === "v299";
        } catch {
          return false;
        }
      },
      { what: "caught up by snapshot", timeoutMs: 10_000 },
    );
    expect(back.member.store.get("/s0", { time: now() }).node.value).toBe("v0");
  }, 90_000);

  it("refuses to bootstrap a member whose data was wiped while the cluster runs", async () => {
    const configs = await clusterConfigs(3);
    const members = await Promise.all(configs.map(start));
    await waitFor(
      () =>
        members.every((r) => {
          const seen = r.member.members();
          return seen.length === 3 && seen.every((m) => m.clientURLs.length > 0);
        }),
      { what: "attributes published", timeoutMs: 10_000 },
    );
    const victim = members[2]!;
    await stop(victim);
    const wiped = { ...victim.config, dataDir: dir().path };
    await expect(Member.open(wiped)).rejects.toThrow(BootstrapError);
    await expect(Member.open({ ...wiped, dataDir: dir().path })).rejects.toThrow(
      /has already been bootstrapped/,
    );
  });
});
