import { type EtcdCluster, programOrSkip, startEtcd, waitFor } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bootstrapLikeEtcd,
  newToken,
  Q,
  register,
  startTestService,
  type TestService,
  v2,
} from "./support.js";

const etcd = programOrSkip("etcd", "the discovery service on an external etcd cluster (--etcd)");

describe.skipIf(etcd === undefined)("--etcd: tokens in an external etcd 3.4.23 cluster", () => {
  let cluster: EtcdCluster;
  let t: TestService;
  let clock = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    cluster = await startEtcd();
    t = await startTestService(["--etcd", cluster.endpoints, "--token-ttl", "1h"], () => clock);
  });
  afterAll(async () => {
    await t?.stop();
    await cluster?.stop();
  });

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
    const a = bootstrapLikeEtcd(url, "aa01", "m1=http://127.0.0.1:1");
    await waitFor(async () => ((await v2(url)).body.node.nodes ?? []).length === 1);
    const b = bootstrapLikeEtcd(url, "aa02", "m2=http://127.0.0.1:2");
    const cluster2 = "m1=http://127.0.0.1:1,m2=http://127.0.0.1:2";
    expect(await a).toEqual({ cluster: cluster2, seen: [`/${token}/aa02`] });
    expect(await b).toEqual({ cluster: cluster2, seen: [] });
    expect((await register(`${url}/aa01`, "x")).status).toBe(412);
    // the data really is in etcd, under the prefix
    const raw = await v2(`${cluster.members[0]!.clientUrl}/v2/keys/_etcd/registry/${token}`);
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
    const raw = await v2(`${cluster.members[0]!.clientUrl}/v2/keys/_etcd/registry/${token}`);
    expect(raw.status).toBe(404);
  });

  it("answers /health from the cluster", async () => {
    expect(await (await fetch(`${t.service.url}/health`)).json()).toEqual({ health: "true" });
  });
});
