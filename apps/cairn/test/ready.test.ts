/**
 * Story: a member serves clients only once it has published its name and
 * client URLs through raft (etcd's ReadyNotify). Before that its client port
 * accepts connections but answers nothing, so no client ever meets a member
 * that the cluster does not list yet.
 */
import { freePorts, sleep, stopAll } from "@cairn/testkit";
import { afterAll, expect, it } from "vitest";
import { CairnMember, memberArgs, request } from "./support/cluster.js";

afterAll(stopAll);

it("holds client requests until the member has published itself, then answers them", async () => {
  const ports = await freePorts(4);
  const specs = ["m1", "m2"].map((name, i) => ({
    name,
    clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    runtime: "node" as const,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
  const [m1, m2] = specs.map((s) => {
    const m = new CairnMember(s, []);
    m.args = memberArgs(
      { ...s, dataDir: m.dataDir },
      initialCluster,
      `cairn-ready-${process.pid}`,
      "new",
      [],
    );
    return m;
  }) as [CairnMember, CairnMember];
  try {
    // m1 alone has no quorum, so it cannot publish: its port is open, but a
    // request stays unanswered.
    m1.start();
    const listening = Date.now() + 20_000;
    while (
      m1.logged("serving client traffic insecurely; this is strongly discouraged!").length === 0
    ) {
      if (Date.now() > listening || !m1.running())
        throw new Error(`m1 did not listen: ${m1.stderr()}`);
      await sleep(50);
    }
    let answered = false;
    const early = fetch(`${m1.clientUrl}/version`, { signal: AbortSignal.timeout(30_000) }).then(
      async (res) => {
        answered = true;
        return { status: res.status, text: await res.text() };
      },
    );
    await sleep(1_500);
    expect(answered, "a member that has not published must not answer").toBe(false);

    // With m2 up there is a quorum: m1 publishes, and the held request is answered.
    m2.start();
    const res = await early;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toHaveProperty("etcdserver");
    const members = (await request(m1, "/v2/members")).json as {
      members: { name: string; clientURLs: string[] }[];
    };
    expect(members.members).toContainEqual(
      expect.objectContaining({ name: "m1", clientURLs: [m1.clientUrl] }),
    );
  } finally {
    await m1.terminate();
    await m2.terminate();
    m1.removeDir();
    m2.removeDir();
  }
}, 60_000);
