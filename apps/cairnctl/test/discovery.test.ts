import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliIO, run } from "../src/index.js";
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
