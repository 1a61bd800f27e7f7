import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, programOrSkip, runtimeCommand, startEtcdCluster, tempDir } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  bootstrapIdentity,
  computeAddedMemberId,
  computeClusterId,
  computeMemberId,
  formatId,
  IdSyntaxError,
  parseId,
  parseInitialCluster,
  sha1,
} from "./identity.js";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("sha1", () => {
  test("FIPS 180 test vectors", () => {
    expect(hex(sha1(utf8("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(hex(sha1(utf8("")))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(hex(sha1(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    );
  });

  test("agrees with crypto.subtle on every length around the block boundaries", async () => {
    for (let length = 0; length <= 200; length++) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
      expect(hex(sha1(data)), `length ${length}`).toBe(hex(expected));
    }
  });
});

describe("member ids (spec bootstrap.md §1)", () => {
  test("golden: http://127.0.0.1:23800 with token etcd-cluster", () => {
    expect(formatId(computeMemberId(["http://127.0.0.1:23800"], "etcd-cluster"))).toBe(
      "2e1259d415f2a040",
    );
  });

  test("golden: etcd's default single member (localhost:2380, etcd-cluster)", () => {
    // etcd 3.4 started with no flags logs member 8e9e05c52164694d in cluster cdf818194e3a8c32.
    const id = computeMemberId(["http://localhost:2380"], "etcd-cluster");
    expect(formatId(id)).toBe("8e9e05c52164694d");
    expect(formatId(computeClusterId([id]))).toBe("cdf818194e3a8c32");
  });

  test("golden: the DNS SRV members of spec §4.2", () => {
    const ids = [23960, 23961, 23962].map((port, i) =>
      formatId(computeMemberId([`https://s${i + 1}.etcd.test:${port}`], "etcd-cluster")),
    );
    expect(ids).toEqual(["85b8b40a65317cf3", "999bafc9e1d8fb21", "7f63cda0df020806"]);
  });

  test("peer URLs are sorted before hashing; order given does not matter", () => {
    const a = computeMemberId(["http://10.0.0.2:2380", "http://10.0.0.1:2380"], "t");
    const b = computeMemberId(["http://10.0.0.1:2380", "http://10.0.0.2:2380"], "t");
    expect(a).toBe(b);
    expect(a).not.toBe(computeMemberId(["http://10.0.0.1:2380"], "t"));
  });

  test("the token changes the id; the name is not an input", () => {
    const one = computeMemberId(["http://127.0.0.1:23800"], "etcd-cluster");
    expect(computeMemberId(["http://127.0.0.1:23800"], "other-token")).not.toBe(one);
  });

  test("a runtime-added member hashes the decimal Unix seconds after the URLs", () => {
    const urls = ["http://127.0.0.1:23804"];
    expect(computeAddedMemberId(urls, 1_700_000_000)).toBe(computeMemberId(urls, "1700000000"));
    expect(computeAddedMemberId(urls, 1_700_000_000n)).toBe(
      computeAddedMemberId(urls, 1_700_000_000),
    );
    expect(computeAddedMemberId(urls, 1_700_000_001)).not.toBe(
      computeAddedMemberId(urls, 1_700_000_000),
    );
  });
});

describe("cluster id", () => {
  test("does not depend on the order of the member ids", () => {
    const ids = [3n, 0xffffffffffffffffn, 1n];
    expect(computeClusterId(ids)).toBe(computeClusterId([...ids].reverse()));
  });

  test("hashes each id as 8 big-endian bytes", () => {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 1n);
    view.setBigUint64(8, 0x0102030405060708n);
    const digest = sha1(bytes);
    const expected = new DataView(digest.buffer).getBigUint64(0);
    expect(computeClusterId([0x0102030405060708n, 1n])).toBe(expected);
  });
});

describe("formatId / parseId", () => {
  test("lowercase hex without padding, both ways", () => {
    expect(formatId(0x0abcn)).toBe("abc");
    expect(formatId(0xffffffffffffffffn)).toBe("ffffffffffffffff");
    expect(formatId(0n)).toBe("0");
    expect(parseId("2e1259d415f2a040")).toBe(0x2e1259d415f2a040n);
    expect(parseId("ABC")).toBe(0xabcn);
    expect(parseId("000abc")).toBe(0xabcn);
    for (const id of [1n, 0x8e9e05c52164694dn, 0xffffffffffffffffn]) {
      expect(parseId(formatId(id))).toBe(id);
    }
  });

  test("rejects what etcd's ParseUint(s, 16, 64) rejects", () => {
    for (const bad of ["", "0x1f", "-1", "g1", " 1", "1ffffffffffffffff"]) {
      expect(() => parseId(bad), bad).toThrow(IdSyntaxError);
    }
  });
});

describe("parseInitialCluster", () => {
  test("names map to sorted peer URLs; a name may repeat; empty items are skipped", () => {
    const map = parseInitialCluster(
      "m2=http://10.0.0.2:2380,,m1=http://10.0.0.1:2381,m1=http://10.0.0.1:2380",
    );
    expect([...map]).toEqual([
      ["m1", ["http://10.0.0.1:2380", "http://10.0.0.1:2381"]],
      ["m2", ["http://10.0.0.2:2380"]],
    ]);
  });

  test("bootstrapIdentity gives etcd's ids for a 3-member cluster, sorted by id", () => {
    const { members, clusterId } = bootstrapIdentity(
      parseInitialCluster(
        "s1=https://s1.etcd.test:23960,s2=https://s2.etcd.test:23961,s3=https://s3.etcd.test:23962",
      ),
      "etcd-cluster",
    );
    expect(members.map((m) => [m.name, formatId(m.id)])).toEqual([
      ["s3", "7f63cda0df020806"],
      ["s1", "85b8b40a65317cf3"],
      ["s2", "999bafc9e1d8fb21"],
    ]);
    expect(clusterId).toBe(computeClusterId(members.map((m) => m.id)));
  });
});

const etcd = programOrSkip("etcd", "identity ids compared with a live etcd 3.4 cluster");

describe.skipIf(etcd === undefined)("ids of a live 3-member etcd 3.4.23 cluster", () => {
  const token = `cairn-identity-${process.pid}`;
  let cluster: Awaited<ReturnType<typeof startEtcdCluster>>;

  beforeAll(async () => {
    // testkit's own token flag comes first; Go's flag package keeps the last value.
    // Strict reconfiguration would refuse a member add until peers have been
    // connected for 5 s (spec bootstrap.md §5.3); the id rule does not depend on it.
    cluster = await startEtcdCluster(3, {
      args: ["--initial-cluster-token", token, "--strict-reconfig-check=false"],
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  test("member ids and the X-Etcd-Cluster-Id header match what Cairn computes", async () => {
    const first = cluster.members[0]!;
    const res = await fetch(`${first.clientUrl}/v2/members`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      members: { id: string; name: string; peerURLs: string[] }[];
    };
    const fromEtcd = body.members.map((m) => [m.name, m.id, m.peerURLs] as const).sort();

    const initial = parseInitialCluster(
      cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(","),
    );
    const ours = bootstrapIdentity(initial, token);
    expect(
      ours.members.map((m) => [m.name, formatId(m.id), [...m.peerUrls]] as const).sort(),
    ).toEqual(fromEtcd);
    expect(res.headers.get("x-etcd-cluster-id")).toBe(formatId(ours.clusterId));
  });

  test("a member added at run time gets SHA-1(peer URLs + Unix seconds)", async () => {
    const first = cluster.members[0]!;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const before = Math.floor(Date.now() / 1000);
    const res = await fetch(`${first.clientUrl}/v2/members`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ peerURLs: [peerUrl] }),
    });
    const after = Math.floor(Date.now() / 1000);
    expect(res.status).toBe(201);
    const added = (await res.json()) as { id: string };
    // etcd reads its clock once while handling the request, between our two readings.
    const candidates = [];
    for (let t = before; t <= after; t++)
      candidates.push(formatId(computeAddedMemberId([peerUrl], t)));
    expect(candidates).toContain(added.id);
    // The cluster id does not change when membership does.
    const again = await fetch(`${first.clientUrl}/v2/members`);
    const initial = parseInitialCluster(
      cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(","),
    );
    expect(again.headers.get("x-etcd-cluster-id")).toBe(
      formatId(bootstrapIdentity(initial, token).clusterId),
    );
  });
});

describe("the same ids under other runtimes", () => {
  for (const runtime of ["bun", "deno"] as const) {
    test(`identity [${runtime}]`, () => {
      const dir = tempDir("cairn-identity-");
      try {
        const module = fileURLToPath(new URL("./identity.ts", import.meta.url));
        const script = join(dir.path, "ids.ts");
        writeFileSync(
          script,
          `import { computeClusterId, computeMemberId, formatId } from ${JSON.stringify(module)};\n` +
            `const id = computeMemberId(["http://localhost:2380"], "etcd-cluster");\n` +
            `console.log(formatId(id), formatId(computeClusterId([id])));\n`,
        );
        const { command, args } = runtimeCommand(runtime);
        const result = spawnSync(command, [...args, script], { encoding: "utf8", timeout: 30_000 });
        expect(result.stderr).toBe("");
        expect(result.stdout.trim()).toBe("8e9e05c52164694d cdf818194e3a8c32");
      } finally {
        dir.remove();
      }
    });
  }
});
