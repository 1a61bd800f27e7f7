/**
 * `pnpm bench http`: v2 key API throughput and latency, etcd and Cairn side by
 * side on the same topology — PUT at 1, 16 and 64 connections, GET,
 * GET quorum=true and a 90/10 read/write mix at 64, over 10,000 keys of
 * 256 bytes. Runs of the two systems alternate, so slow periods of the
 * shared machine hit both alike.
 */
import { sleep } from "@cairn/testkit";
import { chooseSystems, type Run, runsFigure } from "../lib/harness.js";
import { KEY_COUNT, type LoadMode, type LoadResult, nodeLoad, writeKeys } from "../lib/load.js";
import { parseOptions } from "../lib/options.js";
import { measureCalm, meterCpu } from "../lib/procstat.js";
import { round } from "../lib/stats.js";
import { type Cluster, startCluster } from "../lib/systems.js";
import { ensureWrk, runWrk } from "../lib/wrk.js";
import type { Suite } from "../suite.js";

/** The figures of this suite, in order: request mix and connections. */
const CASES: readonly { mode: LoadMode; connections: number; what: string }[] = [
  { mode: "put", connections: 1, what: "put" },
  { mode: "put", connections: 16, what: "put" },
  { mode: "put", connections: 64, what: "put" },
  { mode: "get", connections: 64, what: "get" },
  { mode: "qget", connections: 64, what: "get-quorum" },
  { mode: "mix", connections: 64, what: "mix-90-10" },
];

const suite: Suite = {
  name: "http",
  description:
    "v2 PUT at 1/16/64 connections, GET, GET quorum=true and a 90/10 mix at 64; 10,000 keys of 256 bytes",
  async run(ctx) {
    const options = parseOptions(ctx.args);
    const systems = chooseSystems(options, ctx);
    const wrk = options.generator === "wrk" ? ensureWrk(ctx.log) : undefined;
    ctx.log(
      wrk === undefined
        ? "bench: generator: Node (this process, raw keep-alive sockets)"
        : `bench: generator: wrk (${options.wrkThreads} thread(s)) at ${wrk}`,
    );
    const generate = (url: string, mode: LoadMode, connections: number): Promise<LoadResult> =>
      wrk === undefined
        ? nodeLoad({ url, mode, connections, durationSec: options.durationSec })
        : runWrk({
            wrk,
            url,
            mode,
            connections,
            threads: options.wrkThreads,
            durationSec: options.durationSec,
          });

    for (const members of options.members) {
      const clusters: Cluster[] = [];
      try {
        for (const system of systems) {
          ctx.log(`bench: starting ${system.label}, ${members} member(s)`);
          clusters.push(await startCluster(system, { size: members }));
        }
        // Writes go through the leader, as a client that follows etcd's
        // leader hint would; reads are served there too.
        const targets = await Promise.all(clusters.map((c) => c.leader()));
        for (const [i, c] of clusters.entries()) {
          ctx.log(`bench: ${c.system.label}: loading ${KEY_COUNT.toLocaleString("en")} keys`);
          await writeKeys({ urls: [targets[i]!.clientUrl], writes: KEY_COUNT, keys: KEY_COUNT });
        }
        for (const kase of CASES) {
          const id = `${kase.what} c=${kase.connections} m=${members}`;
          const runs: Run[][] = clusters.map(() => []);
          for (let r = 0; r < options.runs; r++) {
            for (const [i, c] of clusters.entries()) {
              const { result, stealPct, runFields } = await measureCalm(
                options.maxStealPct,
                async () => {
                  const server = meterCpu(c.pids());
                  const res = await generate(targets[i]!.clientUrl, kase.mode, kase.connections);
                  return { res, used: server.stop() };
                },
                { label: `${id} ${c.system.kind} run ${r + 1}/${options.runs}`, log: ctx.log },
              );
              const { res, used } = result;
              runs[i]!.push({
                value: res.rps,
                p50Ms: res.p50Ms,
                p99Ms: res.p99Ms,
                errors: res.errors,
                generatorCores: res.generatorCores,
                serverCores: used.cores,
                ...runFields,
              });
              ctx.log(
                `  ${id} ${c.system.kind} run ${r + 1}/${options.runs}: ${Math.round(res.rps).toLocaleString("en")} req/s` +
                  `  p50 ${round(res.p50Ms, 3)} ms  p99 ${round(res.p99Ms, 3)} ms` +
                  `  cpu: generator ${round(res.generatorCores, 2)} / server ${round(used.cores, 2)} cores` +
                  (stealPct === undefined ? "" : `  steal ${round(stealPct, 1)}%`),
              );
              if (res.errors > 0) {
                ctx.log(`!!! ${id} ${c.system.kind}: ${res.errors} failed requests in this run`);
              }
              // One wrk thread saturating a core means the generator, not the
              // server, may be what limits the figure.
              if (wrk !== undefined && res.generatorCores > 0.9 * options.wrkThreads) {
                ctx.log(
                  `!!! ${id}: wrk used ${round(res.generatorCores, 2)} cores; it may be the bottleneck`,
                );
              }
              await sleep(300);
            }
          }
          for (const [i, c] of clusters.entries()) {
            ctx.report(
              runsFigure({
                case: id,
                system: c.system,
                members,
                unit: "req/s",
                better: "higher",
                runs: runs[i]!,
                context: {
                  connections: kase.connections,
                  generator: wrk === undefined ? "node" : "wrk",
                  durationSec: options.durationSec,
                },
              }),
            );
          }
        }
      } finally {
        await Promise.all(clusters.map((c) => c.stop()));
      }
    }
  },
};

export default suite;
