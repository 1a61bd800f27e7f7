import { fileURLToPath } from "node:url";
import {
  type EtcdCluster,
  freePort,
  freePorts,
  type ManagedProcess,
  programOrSkip,
  sleep,
  startEtcd,
  startProcess,
  stopAll,
  type TempDir,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { v2 } from "./support.js";

const etcd = programOrSkip("etcd", "the etcd 3.4.23 discovery interoperability test");
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** The strongest check: real etcd members bootstrap a cluster from a token of the real binary. */
describe.skipIf(etcd === undefined)("etcd 3.4.23 members bootstrap from the service", () => {
  let store: EtcdCluster | undefined;
  const dirs: TempDir[] = [];
  afterAll(async () => {
    await store?.stop();
    await stopAll();
    for (const d of dirs) d.remove();
  });

  it.each([
    ["its embedded store", false],
    ["an external etcd (--etcd)", true],
  ])(
    "three members given --discovery <token URL> form one cluster of 3, tokens in %s",
    async (_, external) => {
      const data = tempDir("cairn-discovery-");
      dirs.push(data);
      const port = await freePort();
      if (external) store = await startEtcd();
      const service = startProcess(process.execPath, {
        name: "discovery",
        args: [
          MAIN,
          "--addr",
          `127.0.0.1:${port}`,
          "--data-dir",
          data.path,
          ...(store === undefined ? [] : ["--etcd", store.endpoints]),
        ],
      });
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/health`)).ok, {
        what: "the discovery service",
      });
      const tokenUrl = await (await fetch(`${base}/new?size=3`)).text();
      expect(tokenUrl).toMatch(new RegExp(`^${base}/[0-9a-f]{32}$`));

      const ports = await freePorts(6);
      const members: { name: string; client: string; process: ManagedProcess }[] = [];
      for (let i = 0; i < 3; i++) {
        const dir = tempDir("cairn-etcd-");
        dirs.push(dir);
        const name = `m${i + 1}`;
        const client = `http://127.0.0.1:${ports[2 * i]}`;
        const peer = `http://127.0.0.1:${ports[2 * i + 1]}`;
        const proc = startProcess(etcd!.path, {
          name,
          args: [
            "--name",
            name,
            "--data-dir",
            dir.path,
            "--enable-v2=true",
            "--discovery",
            tokenUrl,
            "--initial-advertise-peer-urls",
            peer,
            "--listen-peer-urls",
            peer,
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
          ],
        });
        members.push({ name, client, process: proc });
      }

      const describeFailure = () =>
        [service, ...members.map((m) => m.process)]
          .map((p) => `--- ${p.name} (exited: ${p.hasExited()})\n${p.stderr().slice(-2000)}`)
          .join("\n");
      let views: { ids: string[]; names: string[]; cluster: string | null }[];
      try {
        views = await waitFor(
          async () => {
            const out = [];
            for (const m of members) {
              const res = await fetch(`${m.client}/v2/members`);
              if (!res.ok) return false;
              const body = (await res.json()) as { members: { id: string; name: string }[] };
              if (body.members.length !== 3 || body.members.some((x) => x.name === ""))
                return false;
              out.push({
                ids: body.members.map((x) => x.id).sort(),
                names: body.members.map((x) => x.name).sort(),
                cluster: res.headers.get("X-Etcd-Cluster-Id"),
              });
            }
            return out;
          },
          { timeoutMs: 40_000, intervalMs: 250, what: "three etcd members in one cluster" },
        );
      } catch (error) {
        throw new Error(`${String(error)}\n${describeFailure()}`);
      }
      // every member sees the same three members and the same cluster id
      expect(views[0]!.names).toEqual(["m1", "m2", "m3"]);
      expect(views[0]!.cluster).toMatch(/^[0-9a-f]+$/);
      for (const v of views) expect(v).toEqual(views[0]);

      // the token holds exactly their three registrations, `<id>` -> `<name>=<peerURL>`
      const reg = await v2(tokenUrl);
      const nodes = reg.body.node.nodes as { key: string; value: string }[];
      expect(nodes.map((n) => n.value.split("=")[0]).sort()).toEqual(["m1", "m2", "m3"]);
      expect(nodes.map((n) => n.key.split("/").pop()).sort()).toEqual(views[0]!.ids);

      if (store !== undefined) {
        const token = new URL(tokenUrl).pathname;
        const raw = await v2(`${store.members[0]!.clientUrl}/v2/keys/_etcd/registry${token}`);
        expect(raw.body.node.nodes).toHaveLength(3);
      }

      // and the cluster works: a write on one member is read on another
      const put = await fetch(`${members[0]!.client}/v2/keys/hello`, {
        method: "PUT",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "value=world",
      });
      expect(put.status).toBe(201);
      const read = await waitFor(async () => {
        const r = await v2(`${members[2]!.client}/v2/keys/hello`);
        return r.status === 200 && r.body;
      });
      expect(read.node.value).toBe("world");

      // a fourth member finds the cluster full (§3.4) and, with fallback=exit, exits 1 unregistered
      const dir = tempDir("cairn-etcd-");
      dirs.push(dir);
      const [c4, p4] = await freePorts(2);
      const fourth = startProcess(etcd!.path, {
        name: "m4",
        args: [
          "--name",
          "m4",
          "--data-dir",
          dir.path,
          "--enable-v2=true",
          "--discovery",
          tokenUrl,
          "--discovery-fallback",
          "exit",
          "--initial-advertise-peer-urls",
          `http://127.0.0.1:${p4}`,
          "--listen-peer-urls",
          `http://127.0.0.1:${p4}`,
          "--listen-client-urls",
          `http://127.0.0.1:${c4}`,
          "--advertise-client-urls",
          `http://127.0.0.1:${c4}`,
        ],
      });
      expect(await Promise.race([fourth.exited, sleep(20_000).then(() => "still running")])).toBe(
        1,
      );
      expect(fourth.stderr()).toContain("discovery: cluster is full");
      expect(((await v2(tokenUrl)).body.node.nodes as unknown[]).length).toBe(3);
    },
    90_000,
  );
});
