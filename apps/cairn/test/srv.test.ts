/**
 * Bootstrap by DNS SRV (spec bootstrap.md §4, issue 8), end to end: a DNS
 * server the test starts on 127.0.0.1 (testkit's) serves `_etcd-server`
 * records, and real `cairn` processes pointed at it with
 * `--discovery-srv-resolver` form one cluster from them, with and without a
 * `--discovery-srv-name` suffix, on every runtime; a member missing from the
 * records exits with etcd's error.
 *
 * The records' targets are `localhost` (served as an A record by the test
 * server, and resolvable by the system resolver the members' peer traffic
 * uses), told apart by port; the members advertise `http://127.0.0.1:<port>`
 * and so must find themselves by resolved address and port, not by string.
 */
import {
  type DnsServer,
  freePorts,
  memberFlags,
  RUNTIMES,
  type Runtime,
  type SrvRecordSpec,
  startDnsServer,
  stopAll,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CairnMember,
  ELECTION_MS,
  expectedClusterId,
  expectedMemberId,
  get,
  HEARTBEAT_MS,
  put,
  request,
} from "./support/cluster.js";

const DOMAIN = "cairn.test";

let dns: DnsServer;
const started: CairnMember[] = [];

beforeAll(async () => {
  dns = await startDnsServer({ records: {} });
});

afterAll(async () => {
  await stopAll();
  for (const m of started) m.removeDir();
  await dns.stop();
});

let clusters = 0;

/** Members (not started) that bootstrap by `--discovery-srv`, each on its runtime. */
async function srvMembers(
  runtimes: readonly Runtime[],
  options: { suffix?: string } = {},
): Promise<{ members: CairnMember[]; token: string; peerRecords: SrvRecordSpec[] }> {
  const ports = await freePorts(2 * runtimes.length);
  const token = `cairn-srv-${process.pid}-${clusters++}`;
  const members = runtimes.map((runtime, i) => {
    const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
    const peerUrl = `http://127.0.0.1:${ports[2 * i + 1]}`;
    const m = new CairnMember({ name: `s${i + 1}`, clientUrl, peerUrl, runtime }, []);
    m.args = [
      ...memberFlags(m),
      "--discovery-srv",
      DOMAIN,
      ...(options.suffix === undefined ? [] : ["--discovery-srv-name", options.suffix]),
      "--discovery-srv-resolver",
      dns.address,
      "--initial-cluster-token",
      token,
      "--heartbeat-interval",
      String(HEARTBEAT_MS),
      "--election-timeout",
      String(ELECTION_MS),
    ];
    started.push(m);
    return m;
  });
  const peerRecords = members.map((m) => ({ target: "localhost.", port: port(m.peerUrl) }));
  return { members, token, peerRecords };
}

function port(url: string): number {
  return Number(new URL(url).port);
}

/** The peer URL the records give a member: the target's name, the member's port. */
function recordPeerUrl(m: CairnMember): string {
  return `http://localhost:${port(m.peerUrl)}`;
}

/** Waits until every member answers healthy and lists all members with their names. */
async function waitFormed(members: readonly CairnMember[], timeoutMs = 60_000): Promise<void> {
  for (const m of members) {
    await waitFor(
      async () => {
        if (!m.running()) throw new Error(`${m.name} exited: ${m.lastStderr().slice(-2_000)}`);
        const health = await request(m, "/health", { timeoutMs: 2_000 });
        if (health.text !== '{"health":"true"}') return false;
        const list = (await request(m, "/v2/members", { timeoutMs: 2_000 })).json as {
          members: { name: string }[];
        };
        return list.members.length === members.length && list.members.every((x) => x.name !== "");
      },
      { timeoutMs, intervalMs: 100, what: `${m.name} in a formed cluster` },
    ).catch((error: unknown) => {
      throw new Error(`${m.name} did not join: ${m.lastStderr().slice(-3_000)}`, { cause: error });
    });
  }
}

/** `/v2/members` of `m`, sorted by name. */
async function membersOf(
  m: CairnMember,
): Promise<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }[]> {
  const list = (await request(m, "/v2/members")).json as {
    members: { id: string; name: string; peerURLs: string[]; clientURLs: string[] }[];
  };
  return list.members.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** What every member must list: names, the records' peer URLs, ids hashed from those (spec §1). */
function expectedMembers(members: readonly CairnMember[], token: string) {
  return members.map((m) => ({
    id: expectedMemberId([recordPeerUrl(m)], token),
    name: m.name,
    peerURLs: [recordPeerUrl(m)],
    clientURLs: [m.clientUrl],
  }));
}

describe("bootstrap by DNS SRV", () => {
  it("three members form one cluster from _etcd-server (http) records; a restart ignores DNS", async () => {
    const { members, token, peerRecords } = await srvMembers(["node", "node", "node"]);
    dns.setRecords({
      srv: { [`_etcd-server._tcp.${DOMAIN}`]: peerRecords },
      a: { localhost: ["127.0.0.1"] },
    });
    const before = dns.queries().length;
    for (const m of members) m.start();
    await waitFormed(members);

    // Each member asked our server for both record sets and for the targets' address.
    const asked = dns.queries().slice(before);
    expect(asked).toContainEqual({ name: `_etcd-server-ssl._tcp.${DOMAIN}`, type: "SRV" });
    expect(asked).toContainEqual({ name: `_etcd-server._tcp.${DOMAIN}`, type: "SRV" });
    expect(asked).toContainEqual({ name: "localhost", type: "A" });
    expect(asked.filter((q) => q.name === `_etcd-server._tcp.${DOMAIN}`)).toHaveLength(3);

    const expected = expectedMembers(members, token);
    for (const m of members) expect(await membersOf(m)).toEqual(expected);
    const write = await put(members[0]!, "/srv/k", { value: "from s1" });
    expect(write.status, write.text).toBe(201);
    expect(write.headers.get("x-etcd-cluster-id")).toBe(
      expectedClusterId(expected.map((e) => e.id)),
    );
    const read = await get(members[2]!, "/srv/k", "quorum=true");
    expect([read.status, (read.json as { node: { value: string } }).node.value]).toEqual([
      200,
      "from s1",
    ]);

    // Once it has data a member ignores every bootstrap flag (spec §2): it
    // restarts with the records gone.
    dns.setRecords({});
    expect(await members[1]!.terminate()).toBe(0);
    members[1]!.start();
    await waitFormed(members);
    const again = await get(members[1]!, "/srv/k", "quorum=true");
    expect((again.json as { node: { value: string } }).node.value).toBe("from s1");
  }, 120_000);

  it(`with --discovery-srv-name, one member per runtime (${RUNTIMES.join(", ")}): only the suffixed records count`, async () => {
    const { members, token, peerRecords } = await srvMembers(RUNTIMES, { suffix: "c1" });
    dns.setRecords({
      srv: {
        [`_etcd-server-c1._tcp.${DOMAIN}`]: peerRecords,
        // Unsuffixed records naming other ports: a member reading them would not find itself.
        [`_etcd-server._tcp.${DOMAIN}`]: [{ target: "localhost", port: 1 }],
      },
      a: { localhost: ["127.0.0.1"] },
    });
    for (const m of members) m.start();
    await waitFormed(members, 90_000);
    const expected = expectedMembers(members, token);
    for (const m of members) expect(await membersOf(m)).toEqual(expected);
    const write = await put(members[2]!, "/srv/suffix", { value: "from deno" });
    expect(write.status, write.text).toBe(201);
    const read = await get(members[1]!, "/srv/suffix", "quorum=true");
    expect((read.json as { node: { value: string } }).node.value).toBe("from deno");
  }, 150_000);

  it.each(RUNTIMES)(
    "a member whose peer address is not in the records exits 1 with etcd's error [%s]",
    async (runtime) => {
      const { members } = await srvMembers([runtime]);
      const [m] = members as [CairnMember];
      dns.setRecords({
        srv: {
          [`_etcd-server._tcp.${DOMAIN}`]: [
            { target: "localhost", port: port(m.peerUrl) + 1 },
            { target: "elsewhere.cairn.test", port: port(m.peerUrl) },
          ],
        },
        a: { localhost: ["127.0.0.1"], "elsewhere.cairn.test": ["127.0.0.2"] },
      });
      const before = dns.queries().length;
      const proc = m.start();
      expect(await proc.exited).toBe(1);
      expect(proc.stderr().trimEnd().split("\n").at(-1)).toBe(
        'error setting up initial cluster: cannot find local etcd member "s1" in SRV records',
      );
      // It got that far through our server: the records and a target's address were asked for.
      const asked = dns.queries().slice(before);
      expect(asked).toContainEqual({ name: `_etcd-server._tcp.${DOMAIN}`, type: "SRV" });
      expect(asked).toContainEqual({ name: "elsewhere.cairn.test", type: "A" });
    },
    60_000,
  );

  it.each(RUNTIMES)(
    "no records: both lookup errors, naming the resolver asked [%s]",
    async (runtime) => {
      const { members } = await srvMembers([runtime]);
      dns.setRecords({});
      const proc = members[0]!.start();
      expect(await proc.exited).toBe(1);
      const on = `on ${dns.address}: no such host`;
      expect(proc.stderr().trimEnd().split("\n").at(-1)).toBe(
        `couldn't resolve during SRV discovery (error querying DNS SRV records for _etcd-server-ssl lookup _etcd-server-ssl._tcp.${DOMAIN} ${on} and error querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.${DOMAIN} ${on})`,
      );
    },
    60_000,
  );

  it("a record for this member under _etcd-server-ssl while it advertises http: scheme mismatch, then not found", async () => {
    const { members, peerRecords } = await srvMembers(["node"]);
    dns.setRecords({
      srv: { [`_etcd-server-ssl._tcp.${DOMAIN}`]: peerRecords },
      a: { localhost: ["127.0.0.1"] },
    });
    const m = members[0]!;
    const proc = m.start();
    expect(await proc.exited).toBe(1);
    expect(m.logged("bootstrap from DNS has a scheme mismatch")).toEqual([
      expect.objectContaining({
        level: "error",
        error: `bootstrap at https://localhost:${port(m.peerUrl)} from DNS for _etcd-server-ssl._tcp.${DOMAIN} has scheme mismatch with expected peer ${m.peerUrl}`,
      }),
    ]);
    expect(proc.stderr().trimEnd().split("\n").at(-1)).toBe(
      'error setting up initial cluster: cannot find local etcd member "s1" in SRV records',
    );
  }, 60_000);
});
