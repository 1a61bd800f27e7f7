import { type DnsServer, type EtcdCluster, startDnsServer, startEtcdCluster } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIO, run } from "../src/index.js";
import { PATIENT, runCairnctl } from "./support/run.js";
import { etcdTarget, type RunningTarget } from "./support/targets.js";

/**
 * SRV discovery (bootstrap.md §4.4). DNS is the runtime boundary here: the
 * records are supplied through `CliIO.resolveSrv`, the rest (naming, schemes,
 * insecure filtering, fallback, errors) is cairnctl's logic against a real etcd.
 */
function io(
  records: Record<string, { name: string; port: number }[]>,
  env: Record<string, string>,
) {
  let stdout = "";
  let stderr = "";
  const asked: string[] = [];
  const cli: CliIO = {
    env,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => "",
    promptPassword: async () => "",
    resolveSrv: async (name) => {
      asked.push(name);
      const r = records[name];
      if (r === undefined) throw new Error(`lookup ${name} on 127.0.0.53:53: no such host`);
      return r.map((x) => ({ ...x, priority: 0, weight: 0 }));
    },
    spawn: async () => {},
    interrupt: new AbortController().signal,
    sleep: async () => {},
  };
  return { cli, out: () => stdout, err: () => stderr, asked };
}

describe.skipIf(!etcdTarget.available)("cairnctl --discovery-srv", () => {
  let server: RunningTarget;
  let port: number;
  beforeAll(async () => {
    server = await etcdTarget.start();
    port = Number(new URL(server.url).port);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("fails with both lookup errors and exit 1 when neither record exists", async () => {
    const t = io({}, {});
    expect(await run(["--discovery-srv", "example.test", "get", "/k"], t.cli)).toBe(1);
    expect(t.err()).toBe(
      "dns lookup errors: lookup _etcd-client-ssl._tcp.example.test on 127.0.0.53:53: no such host and " +
        "lookup _etcd-client._tcp.example.test on 127.0.0.53:53: no such host\n",
    );
  });

  it("drops http endpoints unless insecure discovery is on, then falls back to --endpoints", async () => {
    const t = io({ "_etcd-client._tcp.example.test": [{ name: "localhost", port }] }, {});
    const code = await run(
      ["--discovery-srv", "example.test", "--endpoints", server.url, "set", "/srv", "fallback"],
      t.cli,
    );
    expect(t.err()).toBe(`ignoring discovered insecure endpoint "http://localhost.:${port}"\n`);
    expect([code, t.out()]).toEqual([0, "fallback\n"]);
  });

  it("uses the discovered endpoints with ETCDCTL_INSECURE_DISCOVERY and the service name suffix", async () => {
    const t = io(
      { "_etcd-client-c1._tcp.example.test": [{ name: "127.0.0.1", port }] },
      {
        ETCDCTL_DISCOVERY_SRV: "example.test",
        ETCDCTL_DISCOVERY_SRV_NAME: "c1",
        ETCDCTL_INSECURE_DISCOVERY: "1",
      },
    );
    const code = await run(["--debug", "--no-sync", "get", "/srv"], t.cli);
    expect(t.asked).toEqual([
      "_etcd-client-ssl-c1._tcp.example.test",
      "_etcd-client-c1._tcp.example.test",
    ]);
    expect(t.err()).toContain(`Cluster-Endpoints: http://127.0.0.1.:${port}\n`);
    expect([code, t.out()]).toEqual([0, "fallback\n"]);
  });
});

/**
 * The same, end to end: the cairnctl binary asks a DNS server the test starts
 * on 127.0.0.1 (`ETCDCTL_DISCOVERY_SRV_RESOLVER`) for the `_etcd-client`
 * records of a 3-member etcd cluster and talks to it through them. The
 * targets are named `127.0.0.1`: the discovered URLs keep the target's
 * trailing dot (`http://127.0.0.1.:2379`, spec §4.4) and the HTTP client
 * resolves them with the system resolver, which knows no test names (and not
 * `localhost.` with its dot either); a dotted-quad name is an address to it.
 */
describe.skipIf(!etcdTarget.available)("cairnctl --discovery-srv with a real DNS server", () => {
  let cluster: EtcdCluster;
  let dns: DnsServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    [cluster, dns] = await Promise.all([startEtcdCluster(3), startDnsServer({ records: {} })]);
    env = { ETCDCTL_DISCOVERY_SRV_RESOLVER: dns.address };
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    await dns?.stop();
  });

  /** `_etcd-client[-suffix]._tcp.cairn.test` records naming every member's client port. */
  function clientRecords(suffix = ""): void {
    dns.setRecords({
      srv: {
        [`_etcd-client${suffix}._tcp.cairn.test`]: cluster.members.map((m) => ({
          target: "127.0.0.1",
          port: Number(new URL(m.clientUrl).port),
        })),
      },
    });
  }

  it("finds the _etcd-client endpoints, with --insecure-discovery, and uses the cluster through them", async () => {
    clientRecords();
    const before = dns.queries().length;
    const set = await runCairnctl(
      [
        ...PATIENT,
        "--discovery-srv",
        "cairn.test",
        "--insecure-discovery",
        "set",
        "/srv/real",
        "dns",
      ],
      env,
    );
    expect(set).toEqual({ stdout: "dns\n", stderr: "", code: 0 });
    expect(
      dns
        .queries()
        .slice(before)
        .filter((q) => q.type === "SRV")
        .map((q) => q.name),
    ).toEqual(["_etcd-client-ssl._tcp.cairn.test", "_etcd-client._tcp.cairn.test"]);
    const list = await runCairnctl(
      [...PATIENT, "-D", "cairn.test", "--insecure-discovery", "member", "list"],
      env,
    );
    expect(list.code).toBe(0);
    for (const m of cluster.members) expect(list.stdout).toContain(`clientURLs=${m.clientUrl}`);
    const debug = await runCairnctl([...PATIENT, "--debug", "--no-sync", "get", "/srv/real"], {
      ...env,
      ETCDCTL_DISCOVERY_SRV: "cairn.test",
      ETCDCTL_INSECURE_DISCOVERY: "1",
    });
    const ports = cluster.members.map((m) => new URL(m.clientUrl).port);
    expect(debug.stderr).toContain(
      `Cluster-Endpoints: ${ports.map((p) => `http://127.0.0.1.:${p}`).join(", ")}\n`,
    );
    expect([debug.code, debug.stdout]).toEqual([0, "dns\n"]);
  });

  it("without insecure discovery the http endpoints are ignored, and --endpoints is used", async () => {
    clientRecords();
    const r = await runCairnctl(
      [
        ...PATIENT,
        "--discovery-srv",
        "cairn.test",
        "--endpoints",
        cluster.members[1]!.clientUrl,
        "get",
        "/srv/real",
      ],
      env,
    );
    expect(r.stderr).toBe(
      cluster.members
        .map(
          (m) =>
            `ignoring discovered insecure endpoint "http://127.0.0.1.:${new URL(m.clientUrl).port}"\n`,
        )
        .join(""),
    );
    expect([r.code, r.stdout]).toEqual([0, "dns\n"]);
  });

  it("reads the suffixed records with ETCDCTL_DISCOVERY_SRV_NAME", async () => {
    clientRecords("-c1");
    const r = await runCairnctl(
      [...PATIENT, "--discovery-srv", "cairn.test", "--insecure-discovery", "get", "/srv/real"],
      {
        ...env,
        ETCDCTL_DISCOVERY_SRV_NAME: "c1",
      },
    );
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "dns\n", ""]);
  });

  it("no records: both lookup errors naming the resolver, exit 1; a bad resolver address is refused", async () => {
    dns.setRecords({});
    const on = `on ${dns.address}: no such host`;
    expect(await runCairnctl(["--discovery-srv", "cairn.test", "get", "/srv/real"], env)).toEqual({
      stdout: "",
      stderr: `dns lookup errors: lookup _etcd-client-ssl._tcp.cairn.test ${on} and lookup _etcd-client._tcp.cairn.test ${on}\n`,
      code: 1,
    });
    expect(
      await runCairnctl(["--discovery-srv", "cairn.test", "get", "/srv/real"], {
        ETCDCTL_DISCOVERY_SRV_RESOLVER: "dns.example",
      }),
    ).toEqual({
      stdout: "",
      stderr:
        'ETCDCTL_DISCOVERY_SRV_RESOLVER: expected an IP address with an optional port (e.g. 127.0.0.1:5353), got "dns.example"\n',
      code: 1,
    });
  });
});
