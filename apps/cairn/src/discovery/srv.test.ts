/**
 * Building the initial cluster from SRV records (spec bootstrap.md §4.1–4.3),
 * against a real DNS server on 127.0.0.1 (testkit's) asked through the Node
 * runtime adapter's resolver, the one the member uses under Node.
 */
import { type DnsRecords, type DnsServer, startDnsServer } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJsonLogger } from "../log/index.js";
import { nodeDnsResolver } from "../runtime/node-dns.js";
import { SrvError } from "./errors.js";
import { clusterFromSrv, type SrvBootstrapOptions } from "./srv.js";

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer({ records: {} });
});
afterAll(async () => {
  await dns.stop();
});

/** Three hosts on distinct loopback addresses, all on peer port 2380. */
const HOSTS: DnsRecords["a"] = {
  "s1.cairn.test": ["127.0.0.1"],
  "s2.cairn.test": ["127.0.0.2"],
  "s3.cairn.test": ["127.0.0.3"],
  "me.cairn.test": ["127.0.0.2"],
};

/** Runs clusterFromSrv for `name` advertising `urls`, with the logged lines collected. */
async function build(
  name: string,
  urls: string[],
  extra: Partial<SrvBootstrapOptions> = {},
): Promise<{ initialCluster: string; peerUrls: string[]; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger({
    sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    level: "debug",
  });
  const result = await clusterFromSrv({
    domain: "cairn.test",
    suffix: "",
    name,
    advertisePeerUrls: urls,
    resolver: nodeDnsResolver({ host: "127.0.0.1", port: dns.port }),
    logger,
    ...extra,
  });
  return { ...result, logs };
}

/** The SrvError clusterFromSrv fails with. */
async function fails(name: string, urls: string[]): Promise<SrvError> {
  try {
    const found = await build(name, urls);
    throw new Error(`expected a failure, got ${found.initialCluster}`);
  } catch (error) {
    if (!(error instanceof SrvError)) throw error;
    return error;
  }
}

describe("the initial cluster from SRV records", () => {
  it("takes the union: https URLs from _etcd-server-ssl, http from _etcd-server, self found by address and port", async () => {
    dns.setRecords({
      srv: {
        "_etcd-server-ssl._tcp.cairn.test": [
          { target: "s1.cairn.test.", port: 2380 },
          { target: "s2.cairn.test.", port: 2380 },
        ],
        "_etcd-server._tcp.cairn.test": [{ target: "s3.cairn.test.", port: 2380 }],
      },
      a: HOSTS,
    });
    const before = dns.queries().length;
    const found = await build("m2", ["https://127.0.0.2:2380"]);
    expect(found.initialCluster).toBe(
      "0=https://s1.cairn.test:2380,m2=https://s2.cairn.test:2380,1=http://s3.cairn.test:2380",
    );
    expect(found.peerUrls).toEqual(["https://s2.cairn.test:2380"]);
    const asked = dns.queries().slice(before);
    expect(asked.filter((q) => q.type === "SRV").map((q) => q.name)).toEqual([
      "_etcd-server-ssl._tcp.cairn.test",
      "_etcd-server._tcp.cairn.test",
    ]);
    expect(asked).toContainEqual({ name: "s3.cairn.test", type: "A" });
    expect(found.logs.filter((l) => l.msg === "got bootstrap from DNS for etcd-server")).toEqual(
      [
        "0=https://s1.cairn.test:2380",
        "m2=https://s2.cairn.test:2380",
        "1=http://s3.cairn.test:2380",
      ].map((node) => expect.objectContaining({ node })),
    );
  });

  it("plain http records alone bootstrap (etcd 3.4.23 fails here, spec §4.3)", async () => {
    dns.setRecords({
      srv: {
        "_etcd-server._tcp.cairn.test": [
          { target: "s1.cairn.test", port: 2380 },
          { target: "s3.cairn.test", port: 2380 },
        ],
      },
      a: HOSTS,
    });
    const found = await build("m3", ["http://127.0.0.3:2380"]);
    expect(found.initialCluster).toBe("0=http://s1.cairn.test:2380,m3=http://s3.cairn.test:2380");
  });

  it("the same address on another port is another member; an advertised host name is resolved too", async () => {
    dns.setRecords({
      srv: {
        "_etcd-server._tcp.cairn.test": [
          { target: "s2.cairn.test", port: 2381 },
          { target: "s2.cairn.test", port: 2380 },
        ],
      },
      a: HOSTS,
    });
    const found = await build("me", ["http://me.cairn.test:2380"]);
    expect(found.initialCluster).toBe("0=http://s2.cairn.test:2381,me=http://s2.cairn.test:2380");
    expect(found.peerUrls).toEqual(["http://s2.cairn.test:2380"]);
  });

  it("compares IPv6 addresses in canonical form", async () => {
    dns.setRecords({
      srv: { "_etcd-server._tcp.cairn.test": [{ target: "v6.cairn.test", port: 2380 }] },
      aaaa: { "v6.cairn.test": ["fd00::2"] },
    });
    const found = await build("m6", ["http://[fd00:0:0::0:2]:2380"]);
    expect(found.initialCluster).toBe("m6=http://v6.cairn.test:2380");
  });

  it("uses the --discovery-srv-name suffix in both record names, and orders answers by priority", async () => {
    dns.setRecords({
      srv: {
        "_etcd-server-ssl-c1._tcp.cairn.test": [{ target: "s3.cairn.test", port: 2380 }],
        "_etcd-server-c1._tcp.cairn.test": [
          { target: "s2.cairn.test", port: 2380, priority: 20 },
          { target: "s1.cairn.test", port: 2380, priority: 10 },
        ],
        // Without the suffix: must not be used.
        "_etcd-server._tcp.cairn.test": [{ target: "s3.cairn.test", port: 9999 }],
      },
      a: HOSTS,
    });
    const before = dns.queries().length;
    const found = await build("m2", ["http://127.0.0.2:2380"], { suffix: "c1" });
    expect(found.initialCluster).toBe(
      "0=https://s3.cairn.test:2380,1=http://s1.cairn.test:2380,m2=http://s2.cairn.test:2380",
    );
    expect(
      dns
        .queries()
        .slice(before)
        .filter((q) => q.type === "SRV")
        .map((q) => q.name),
    ).toEqual(["_etcd-server-ssl-c1._tcp.cairn.test", "_etcd-server-c1._tcp.cairn.test"]);
  });

  it("a member whose address is in no record: cannot find local etcd member", async () => {
    dns.setRecords({
      srv: { "_etcd-server._tcp.cairn.test": [{ target: "s1.cairn.test", port: 2380 }] },
      a: HOSTS,
    });
    const error = await fails("m9", ["http://127.0.0.1:2399"]);
    expect([error.code, error.summary]).toEqual([
      "NOT_IN_RECORDS",
      'error setting up initial cluster: cannot find local etcd member "m9" in SRV records',
    ]);
  });

  it("a record for this member under the other scheme is a scheme mismatch, then not found", async () => {
    dns.setRecords({
      srv: {
        "_etcd-server-ssl._tcp.cairn.test": [{ target: "s1.cairn.test", port: 2380 }],
        "_etcd-server._tcp.cairn.test": [{ target: "s2.cairn.test", port: 2380 }],
      },
      a: HOSTS,
    });
    const logs: Record<string, unknown>[] = [];
    const logger = createJsonLogger({
      sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
      level: "info",
    });
    await expect(
      build("m1", ["http://127.0.0.1:2380"], { logger }).catch((e: unknown) => {
        throw e instanceof SrvError ? new Error(e.summary) : e;
      }),
    ).rejects.toThrow(
      'error setting up initial cluster: cannot find local etcd member "m1" in SRV records',
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "bootstrap from DNS has a scheme mismatch",
        error:
          "bootstrap at https://s1.cairn.test:2380 from DNS for _etcd-server-ssl._tcp.cairn.test has scheme mismatch with expected peer http://127.0.0.1:2380",
      }),
    );
  });

  it("no records at all: both lookup errors, with the resolver asked", async () => {
    dns.setRecords({ a: HOSTS });
    const error = await fails("m1", ["http://127.0.0.1:2380"]);
    const on = `on 127.0.0.1:${dns.port}: no such host`;
    expect([error.code, error.summary]).toEqual([
      "LOOKUP_FAILED",
      `couldn't resolve during SRV discovery (error querying DNS SRV records for _etcd-server-ssl lookup _etcd-server-ssl._tcp.cairn.test ${on} and error querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.cairn.test ${on})`,
    ]);
  });

  it("an advertised host that does not resolve, and records whose targets do not", async () => {
    dns.setRecords({
      srv: { "_etcd-server._tcp.cairn.test": [{ target: "gone.cairn.test", port: 2380 }] },
      a: HOSTS,
    });
    const own = await fails("m1", ["http://nowhere.cairn.test:2380"]);
    expect(own.summary).toBe(
      `couldn't resolve during SRV discovery (lookup nowhere.cairn.test on 127.0.0.1:${dns.port}: no such host)`,
    );
    const targets = await fails("m1", ["http://127.0.0.1:2380"]);
    expect(targets.summary).toBe(
      `couldn't resolve during SRV discovery (lookup gone.cairn.test on 127.0.0.1:${dns.port}: no such host)`,
    );
  });
});
