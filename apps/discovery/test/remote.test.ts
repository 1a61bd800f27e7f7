import { fileURLToPath } from "node:url";
import {
  freePorts,
  memberFlags,
  programOrSkip,
  startEtcd,
  startProcess,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  bootstrapLikeEtcd,
  deferred,
  newToken,
  Q,
  register,
  startTestService,
  type TestService,
  v2,
} from "./support.js";

const etcd = programOrSkip("etcd", "the discovery service on an external etcd cluster (--etcd)");
const CAIRN = fileURLToPath(new URL("../../cairn/dist/main.js", import.meta.url));

/** An external cluster of one member, with the URL the service is given. */
interface ExternalStore {
  readonly clientUrl: string;
  stop(): Promise<void>;
}

async function startCairnMember(): Promise<ExternalStore> {
  const dir = tempDir("cairn-member-");
  const [client, peer] = await freePorts(2);
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const p = startProcess(process.execPath, {
    name: "cairn",
    args: [
      CAIRN,
      ...memberFlags({ name: "c1", dataDir: dir.path, clientUrl, peerUrl }),
      "--initial-cluster",
      `c1=${peerUrl}`,
    ],
  });
  await waitFor(async () => (await fetch(`${clientUrl}/health`)).ok, {
    timeoutMs: 20_000,
    what: "a Cairn member",
  });
  return {
    clientUrl,
    async stop() {
      await p.stop();
      dir.remove();
    },
  };
}

const STORES = [
  {
    name: "an etcd 3.4.23 cluster",
    missing: etcd === undefined,
    start: async (): Promise<ExternalStore> => {
      const c = await startEtcd();
      return { clientUrl: c.members[0]!.clientUrl, stop: () => c.stop() };
    },
  },
  { name: "a Cairn cluster", missing: false, start: startCairnMember },
];

describe.each(STORES)("--etcd: tokens in $name", ({ missing, start }) => {
  let cluster: ExternalStore;
  let t: TestService;
  let clock = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    if (missing) return;
    cluster = await start();
    t = await startTestService(["--etcd", cluster.clientUrl, "--token-ttl", "1h"], () => clock);
  });
  afterAll(async () => {
    await t?.stop();
    await cluster?.stop();
  });
  // etcd's absence is announced by programOrSkip above
  const it = missing ? test.skip : test;

  it("an unknown token is a v2 404 naming the token, even before any token exists", async () => {
    const token = "0123456789abcdef0123456789abcdef";
    const r = await v2(`${t.service.url}/${token}/_config/size?${Q}`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      errorCode: 100,
      message: "Key not found",
      cause: `/${token}`,
      index: r.index,
    });
    expect(await t.service.sweep()).toEqual([]);
  });

  it("serves etcd's request sequence, with keys under /_etcd/registry in the cluster but /<token> to clients", async () => {
    const url = await newToken(t.service.url, 2);
    const token = url.split("/").pop()!;
    const size = await v2(`${url}/_config/size?${Q}`);
    expect(size.body.node).toMatchObject({ key: `/${token}/_config/size`, value: "2" });
    const watching = deferred();
    const a = bootstrapLikeEtcd(url, "aa01", "m1=http://127.0.0.1:1", watching.resolve);
    await watching.promise;
    const b = bootstrapLikeEtcd(url, "aa02", "m2=http://127.0.0.1:2");
    const cluster2 = "m1=http://127.0.0.1:1,m2=http://127.0.0.1:2";
    expect(await a).toEqual({ cluster: cluster2, seen: [`/${token}/aa02`] });
    expect(await b).toEqual({ cluster: cluster2, seen: [] });
    expect((await register(`${url}/aa01`, "x")).status).toBe(412);
    // the data really is in the cluster, under the prefix
    // (sorted: etcd lists a directory in Go map order)
    const raw = await v2(`${cluster.clientUrl}/v2/keys/_etcd/registry/${token}?sorted=true`);
    expect(raw.body.node.nodes.map((n: { key: string }) => n.key)).toEqual([
      `/_etcd/registry/${token}/aa01`,
      `/_etcd/registry/${token}/aa02`,
    ]);
  });

  it("collects tokens past their age from the cluster", async () => {
    const url = await newToken(t.service.url);
    const token = url.split("/").pop()!;
    clock += 60 * 60 * 1000;
    expect(await t.service.sweep()).toContain(token);
    expect((await v2(url)).status).toBe(404);
    const raw = await v2(`${cluster.clientUrl}/v2/keys/_etcd/registry/${token}`);
    expect(raw.status).toBe(404);
  });

  it("answers /health from the cluster", async () => {
    expect(await (await fetch(`${t.service.url}/health`)).json()).toEqual({ health: "true" });
  });
});
