/**
 * `pnpm bench memory`: peak resident memory of each member process while it
 * holds 100,000 keys of 256 bytes (`--keys` to change). Every key is written
 * once into a fresh member; the figure is the largest VmHWM (peak RSS, from
 * /proc/<pid>/status) among the members, sampled after the load settles, so
 * it includes what writing the data cost, not only what holding it costs.
 */
import { sleep } from "@cairn/testkit";
import { chooseSystems, type Run, runsFigure } from "../lib/harness.js";
import { writeKeys } from "../lib/load.js";
import { parseOptions } from "../lib/options.js";
import { memoryUse } from "../lib/procstat.js";
import { round } from "../lib/stats.js";
import { type Cluster, startCluster } from "../lib/systems.js";
import type { Suite } from "../suite.js";

const MIB = 2 ** 20;

const suite: Suite = {
  name: "memory",
  description: "peak RSS (VmHWM) of each member process while holding 100,000 keys of 256 bytes",
  async run(ctx) {
    const options = parseOptions(ctx.args);
    const systems = chooseSystems(options, ctx);
    for (const members of options.members) {
      const id = `peak rss ${options.memoryKeys} keys m=${members}`;
      const runs: Run[][] = systems.map(() => []);
      for (let r = 0; r < options.runs; r++) {
        for (const [i, system] of systems.entries()) {
          let cluster: Cluster | undefined;
          try {
            cluster = await startCluster(system, { size: members });
            const leader = await cluster.leader();
            const idle = cluster.members.map((m) => memoryUse(m.pid()!)?.rssBytes ?? Number.NaN);
            await writeKeys({
              urls: [leader.clientUrl],
              writes: options.memoryKeys,
              keys: options.memoryKeys,
              log: ctx.log,
            });
            // Let followers apply the tail and the runtime settle before sampling.
            await sleep(1_000);
            const use = cluster.members.map((m) => memoryUse(m.pid()!));
            if (use.some((u) => u === undefined))
              throw new Error(`${system.label}: a member exited`);
            const peaks = use.map((u) => u!.peakBytes / MIB);
            const rss = use.map((u) => u!.rssBytes / MIB);
            runs[i]!.push({
              value: Math.max(...peaks),
              rssMiB: Math.max(...rss),
              idleRssMiB: Math.max(...idle) / MIB,
            });
            ctx.log(
              `  ${id} ${system.kind} run ${r + 1}/${options.runs}: peak RSS per member ` +
                `${peaks.map((p) => round(p, 1)).join(", ")} MiB; now ${rss.map((p) => round(p, 1)).join(", ")} MiB` +
                `; idle before load ${idle.map((p) => round(p / MIB, 1)).join(", ")} MiB`,
            );
          } finally {
            await cluster?.stop();
          }
        }
      }
      for (const [i, system] of systems.entries()) {
        ctx.report(
          runsFigure({
            case: id,
            system,
            members,
            unit: "MiB",
            better: "lower",
            runs: runs[i]!,
            context: { keys: options.memoryKeys, valueBytes: 256 },
          }),
        );
      }
    }
  },
};

export default suite;
