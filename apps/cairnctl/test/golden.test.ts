import { freePort } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Outcome, runInProcess } from "./support/run.js";
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
      const r = await runInProcess(["--endpoints", server.url, ...args]);
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
      const once = ctl("watch", "/wg/k");
      await new Promise((r) => setTimeout(r, 300));
      await runInProcess(["--endpoints", server.url, "set", "/wg/k", "v1"]);
      expect(await once).toEqual(ok("v1\n"));

      const ac = new AbortController();
      const forever = runInProcess(["--endpoints", server.url, "watch", "-f", "-r", "/wg"], {
        interrupt: ac.signal,
      });
      await new Promise((r) => setTimeout(r, 300));
      await runInProcess(["--endpoints", server.url, "set", "/wg/sub/a", "1"]);
      await runInProcess(["--endpoints", server.url, "mkdir", "/wg/dir"]);
      await runInProcess(["--endpoints", server.url, "rm", "/wg/sub/a"]);
      await new Promise((r) => setTimeout(r, 300));
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
      expect(await ctl("cluster-health")).toEqual(
        ok(
          "member ID is healthy: got healthy result from http://127.0.0.1:PORT\ncluster is healthy\n",
        ),
      );
      expect(await ctl("member", "remove", "deadbeef")).toEqual(
        err("Couldn't find a member in the cluster with an ID of deadbeef.\n", 1),
      );
    });

    it("cluster-health --forever checks every 10 s until Ctrl-C (exit 0)", async () => {
      const ac = new AbortController();
      const waits: number[] = [];
      const r = await runInProcess(["--endpoints", server.url, "cluster-health", "-f"], {
        interrupt: ac.signal,
        sleep: async (ms) => {
          waits.push(ms);
          if (waits.length === 2) ac.abort(); // Ctrl-C during the second pause
        },
      });
      const round =
        "member ID is healthy: got healthy result from http://127.0.0.1:PORT\ncluster is healthy\n";
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
