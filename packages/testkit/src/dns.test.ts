import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer } from "./index.js";

/** The test DNS server, asked by Node's own resolver (c-ares) pointed at it. */
describe("startDnsServer", () => {
  let dns: DnsServer;
  let resolver: Resolver;
  beforeAll(async () => {
    dns = await startDnsServer({
      records: {
        srv: {
          "_etcd-server._tcp.cairn.test": [
            { target: "m1.cairn.test", port: 2380, priority: 0, weight: 10 },
            { target: "m2.cairn.test.", port: 2381, priority: 1, weight: 5 },
          ],
        },
        a: { "m1.cairn.test": ["127.0.0.1"], "M2.Cairn.Test.": ["127.0.0.2", "127.0.0.3"] },
        aaaa: { "v6.cairn.test": ["::1", "fd00:1::2"] },
      },
    });
    resolver = new Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([dns.address]);
  });
  afterAll(async () => {
    await dns.stop();
  });

  it("answers SRV questions with the records' targets, ports, priorities and weights", async () => {
    expect(await resolver.resolveSrv("_etcd-server._tcp.cairn.test")).toEqual([
      { name: "m1.cairn.test", port: 2380, priority: 0, weight: 10 },
      { name: "m2.cairn.test", port: 2381, priority: 1, weight: 5 },
    ]);
  });

  it("answers A and AAAA, names compared without case or root dot", async () => {
    expect(await resolver.resolve4("m1.cairn.test")).toEqual(["127.0.0.1"]);
    expect(await resolver.resolve4("m2.CAIRN.test")).toEqual(["127.0.0.2", "127.0.0.3"]);
    expect(await resolver.resolve6("v6.cairn.test")).toEqual(["::1", "fd00:1::2"]);
  });

  it("answers NXDOMAIN for an unknown name and no data for a known name's missing type", async () => {
    await expect(resolver.resolveSrv("_etcd-server-ssl._tcp.cairn.test")).rejects.toMatchObject({
      code: "ENOTFOUND",
    });
    await expect(resolver.resolve6("m1.cairn.test")).rejects.toMatchObject({ code: "ENODATA" });
  });

  it("lists the questions it saw, in order", async () => {
    const before = dns.queries().length;
    await resolver.resolve4("m1.cairn.test");
    await resolver.resolveSrv("_etcd-client._tcp.cairn.test").catch(() => undefined);
    expect(dns.queries().slice(before)).toEqual([
      { name: "m1.cairn.test", type: "A" },
      { name: "_etcd-client._tcp.cairn.test", type: "SRV" },
    ]);
  });

  it("serves new records after setRecords", async () => {
    dns.setRecords({ a: { "late.cairn.test": ["127.0.0.9"] } });
    expect(await resolver.resolve4("late.cairn.test")).toEqual(["127.0.0.9"]);
    await expect(resolver.resolve4("m1.cairn.test")).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("drops garbage and keeps serving", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) =>
      socket.send(Buffer.from([1, 2, 3]), dns.port, "127.0.0.1", () => resolve()),
    );
    socket.close();
    dns.setRecords({ a: { "after.cairn.test": ["127.0.0.1"] } });
    expect(await resolver.resolve4("after.cairn.test")).toEqual(["127.0.0.1"]);
  });
});
