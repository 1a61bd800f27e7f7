import { freePort, waitFor } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Outcome, PATIENT, runInProcess, untilHealthy } from "./support/run.js";
import { mask } from "./support/script.js";
import { type RunningTarget, TARGETS } from "./support/targets.js";

/** Golden output and exit code per command, against each target (etcd today, Cairn later). */
for (const target of TARGETS) {
  if (!target.available)
    console.warn(`!!! SKIPPED: cairnctl golden tests against ${target.name} (not available)`);
  describe.skipIf(!target.available)(`cairnctl golden output against ${target.name}`, () => {
    let server: RunningTarget;
    beforeAll(async () => {
      server = await target.start();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    const ctl = async (...args: string[]): Promise<Outcome> => {
      const r = await runInProcess([...PATIENT, "--endpoints", server.url, ...args]);
      return { stdout: mask(r.stdout), stderr: mask(r.stderr), code: r.code };
    };
    const ok = (stdout: string) => ({ stdout, stderr: "", code: 0 });
    const err = (stderr: string, code: number, stdout = "") => ({ stdout, stderr, code });

    it("set / get / mk / update in every format", async () => {
      expect(await ctl("set", "/g/a", "hello")).toEqual(ok("hello\n"));
      expect(await ctl("get", "/g/a")).toEqual(ok("hello\n"));
      expect(await ctl("-o", "json", "get", "/g/a")).toEqual(
        ok(
          '{"action":"get","node":{"key":"/g/a","value":"hello","nodes":null,"createdIndex":N,"modifiedIndex":N},"prevNode":null}\n',
        ),
      );
      expect(await ctl("-o", "extended", "set", "/g/a", "v2")).toEqual(
        ok(
          "Key: /g/a\nCreated-Index: N\nModified-Index: N\nPrevNode.Value: hello\nTTL: 0\nIndex: N\n\nv2\n",
        ),
      );
      expect(await ctl("mk", "/g/a", "x")).toEqual(
        err("Error:  105: Key already exists (/g/a) [N]\n", 4),
      );
      expect(await ctl("update", "/g/none", "x")).toEqual(
        err("Error:  100: Key not found (/g/none) [N]\n", 4),
      );
      expect(await ctl("set", "/g/a", "v3", "--swap-with-value", "no")).toEqual(
        err("Error:  101: Compare failed ([no != v2]) [N]\n", 4),
      );
      expect(await ctl("get", "/g")).toEqual(err("/g: is a directory\n", 1));
      expect(await ctl("get")).toEqual(err("Error:  key required\n", 1));
      expect(await ctl("set", "/g/b")).toEqual(err("Error:  value required\n", 1));
      expect(await ctl("-o", "bogus", "get", "/g/a")).toEqual(
        err("Unsupported output format: bogus\n", 0),
      );
    });

    it("directories, ls and rm", async () => {
      expect(await ctl("mkdir", "/l/d")).toEqual(ok(""));
      expect(await ctl("set", "/l/d/x", "1")).toEqual(ok("1\n"));
      expect(await ctl("set", "/l/f", "2")).toEqual(ok("2\n"));
      expect(await ctl("ls", "--sort", "-r", "-p", "/l")).toEqual(ok("/l/d/\n/l/d/x\n/l/f\n"));
      expect(await ctl("rm", "/l/d")).toEqual(err("Error:  102: Not a file (/l/d) [N]\n", 4));
      expect(await ctl("rmdir", "/l/d")).toEqual(
        err("Error:  108: Directory not empty (/l/d) [N]\n", 4),
      );
      expect(await ctl("rm", "/l/f")).toEqual(ok("PrevNode.Value: 2\n"));
      expect(await ctl("rm", "-r", "/l")).toEqual(ok(""));
      expect(await ctl("ls", "/l")).toEqual(err("Error:  100: Key not found (/l) [N]\n", 4));
    });

    it("watch prints one event; -f -r prints each with its action until Ctrl-C (exit 0)", async () => {
      /** Waits until the server holds more watchers than `than` (its store stats). */
      const watching = (than: number) =>
        waitFor(async () => (await watchers()) > than, { timeoutMs: 20_000, what: "the watch" });
      const watchers = async () =>
        ((await (await fetch(`${server.url}/v2/stats/store`)).json()) as { watchers: number })
          .watchers;

      const idle = await watchers();
      const once = ctl("watch", "/wg/k");
      await watching(idle);
      await ctl("set", "/wg/k", "v1");
      expect(await once).toEqual(ok("v1\n"));

      const ac = new AbortController();
      let printed = "";
      const forever = runInProcess(
        [...PATIENT, "--endpoints", server.url, "watch", "-f", "-r", "/wg"],
        {
          interrupt: ac.signal,
          onStdout: (t) => {
            printed += t;
          },
        },
      );
      await watching(idle);
      await ctl("set", "/wg/sub/a", "1");
      await ctl("mkdir", "/wg/dir");
      await ctl("rm", "/wg/sub/a");
      await waitFor(() => printed.includes("PrevNode.Value: 1\n"), {
        timeoutMs: 20_000,
        what: "the delete printed",
      });
      ac.abort();
      expect(await forever).toEqual(
        ok("[set] /wg/sub/a\n1\n[delete] /wg/sub/a\nPrevNode.Value: 1\n"),
      );
    });

    it("member list and cluster-health", async () => {
      const list = await ctl("member", "list");
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(
        /^ID: name=\S+ peerURLs=http:\/\/127\.0\.0\.1:PORT clientURLs=http:\/\/127\.0\.0\.1:PORT isLeader=true\n$/,
      );
      // /health is a quorum read given one second (etcd's check too); a starved
      // host can miss it, so it is asked again, as an operator would.
      expect(await untilHealthy(() => ctl("cluster-health"))).toEqual(
        ok(
          "member ID is healthy: got healthy result from http://127.0.0.1:PORT\ncluster is healthy\n",
        ),
      );
      expect(await ctl("member", "remove", "deadbeef")).toEqual(
        err("Couldn't find a member in the cluster with an ID of deadbeef.\n", 1),
      );
    });

    it("cluster-health --forever checks every 10 s until Ctrl-C (exit 0)", async () => {
      const waits: number[] = [];
      const round =
        "member ID is healthy: got healthy result from http://127.0.0.1:PORT\ncluster is healthy\n";
      const r = await untilHealthy(
        () => {
          waits.length = 0;
          const ac = new AbortController();
          return runInProcess([...PATIENT, "--endpoints", server.url, "cluster-health", "-f"], {
            interrupt: ac.signal,
            sleep: async (ms) => {
              waits.push(ms);
              if (waits.length === 2) ac.abort(); // Ctrl-C during the second pause
            },
          });
        },
        (out) => mask(out.stdout).split(round).length === 3,
      );
      const pause = "\nnext check after 10 second...\n\n";
      expect({ ...r, stdout: mask(r.stdout) }).toEqual(ok(round + pause + round + pause));
      expect(waits).toEqual([10_000, 10_000]);
    });

    it("an unreachable cluster is exit 2 with etcdctl's message", async () => {
      const port = await freePort();
      const r = await runInProcess(["--endpoints", `http://127.0.0.1:${port}`, "get", "/x"]);
      const dial = `dial tcp 127.0.0.1:${port}: connect: connection refused`;
      expect(r).toEqual(
        err(
          `Error:  client: etcd cluster is unavailable or misconfigured; error #0: ${dial}\n\nerror #0: ${dial}\n\n`,
          2,
        ),
      );
    });
  });
}
