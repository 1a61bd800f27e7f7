import { type EtcdCluster, findProgram, waitFor } from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATIENT, runInProcess, runProgram, untilHealthy } from "./support/run.js";
import { mask } from "./support/script.js";
import { TARGETS } from "./support/targets.js";

/** Member commands and cluster-health on a 3-member cluster of each target (a member is stopped at the end). */
for (const target of TARGETS) {
  describe.skipIf(!target.available)(
    `cairnctl member and cluster-health on 3 members of ${target.name}`,
    () => {
      let cluster: EtcdCluster;
      beforeAll(async () => {
        cluster = await target.startCluster(3);
      }, 60_000);
      afterAll(async () => {
        await cluster?.stop();
      });
      const ctl = (...args: string[]) =>
        runInProcess([...PATIENT, "--endpoints", cluster.members[0]!.clientUrl, ...args]);

      it("member list marks the leader; add shows the new member's environment and it lists as unstarted; remove", async () => {
        const list = await ctl("member", "list");
        expect(list.code).toBe(0);
        const lines = list.stdout.trim().split("\n");
        expect(lines).toHaveLength(3);
        expect(lines.filter((l) => l.endsWith("isLeader=true"))).toHaveLength(1);
        for (const m of cluster.members) {
          expect(list.stdout).toContain(
            `name=${m.name} peerURLs=${m.peerUrl} clientURLs=${m.clientUrl} isLeader=`,
          );
        }

        // etcd's strict reconfig check refuses an add until the members were connected for 5 s.
        await new Promise((r) => setTimeout(r, 6_000));
        // A starved host can break a peer link for a moment, which starts the
        // 5 s over: the add is refused (nothing proposed) and asked again, as
        // an operator would, while the new member is not listed (bounded).
        let add = await ctl("member", "add", "m4", "http://127.0.0.1:1");
        for (let tries = 0; add.code !== 0 && tries < 20; tries++) {
          const listed = await ctl("member", "list");
          if (listed.stdout.includes("http://127.0.0.1:1")) break; // fails below
          await new Promise((r) => setTimeout(r, 1_000));
          add = await ctl("member", "add", "m4", "http://127.0.0.1:1");
        }
        expect(add.code, add.stderr).toBe(0);
        const id = /^Added member named m4 with ID ([0-9a-f]+) to cluster\n/.exec(add.stdout)?.[1];
        expect(id).toBeDefined();
        const initial = cluster.members.map((m) => `${m.name}=${m.peerUrl}`);
        expect(add.stdout.split("\n").slice(1)).toEqual([
          "",
          'ETCD_NAME="m4"',
          expect.stringMatching(/^ETCD_INITIAL_CLUSTER=".*"$/),
          'ETCD_INITIAL_CLUSTER_STATE="existing"',
          "",
        ]);
        const conf = /ETCD_INITIAL_CLUSTER="(.*)"/.exec(add.stdout)![1]!.split(",").sort();
        expect(conf).toEqual([...initial, "m4=http://127.0.0.1:1"].sort());
        expect((await ctl("member", "list")).stdout).toContain(
          `${id}[unstarted]: peerURLs=http://127.0.0.1:1\n`,
        );

        expect(await ctl("member", "remove", id!)).toEqual({
          stdout: `Removed member ${id} from cluster\n`,
          stderr: "",
          code: 0,
        });
        expect((await ctl("member", "list")).stdout.trim().split("\n")).toHaveLength(3);
      }, 120_000);

      it("cluster-health: healthy (0), then degraded with one member stopped (5), like etcdctl", async () => {
        // /health is a quorum read given one second (etcd's check too): a
        // starved host can miss it, so each check is asked again until it
        // shows what the cluster is, as an operator would.
        const healthy = await untilHealthy(() => ctl("cluster-health"));
        expect(healthy.code).toBe(0);
        expect(healthy.stdout.endsWith("cluster is healthy\n")).toBe(true);

        const dead = cluster.members[2]!;
        await dead.process.stop("SIGKILL", 1_000);
        // If the killed member led, the others need a moment to elect a leader;
        // until then every member is unhealthy and the cluster "unavailable".
        for (const m of cluster.members.slice(0, 2)) {
          await waitFor(
            async () => {
              const res = await fetch(`${m.clientUrl}/health`);
              return ((await res.json()) as { health?: string }).health === "true";
            },
            { timeoutMs: 30_000, what: `${m.name} healthy after the kill` },
          );
        }
        const twoHealthy = (out: { stdout: string }) =>
          out.stdout.split("got healthy result from").length === 3;
        const degraded = await untilHealthy(() => ctl("cluster-health"), twoHealthy);
        expect(degraded.code).toBe(5);
        expect(degraded.stdout).toContain(
          `is unreachable: [${dead.clientUrl}] are all unreachable\n`,
        );
        expect(degraded.stdout.endsWith("cluster is degraded\n")).toBe(true);

        const etcdctl = findProgram("etcdctl");
        if (etcdctl !== undefined) {
          const ref = await untilHealthy(
            () =>
              runProgram(
                etcdctl.path,
                [...PATIENT, "--endpoints", cluster.members[0]!.clientUrl, "cluster-health"],
                { ETCDCTL_API: "2" },
              ),
            twoHealthy,
          );
          expect(mask(degraded.stdout)).toBe(mask(ref.stdout));
          expect(degraded.code).toBe(ref.code);
        }
      }, 120_000);
    },
  );
}
