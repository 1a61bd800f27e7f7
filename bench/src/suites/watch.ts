/**
 * `pnpm bench watch`: fan-out of one write to many v2 long-poll watchers.
 * 1,000 watchers wait on a directory (`?wait=true&recursive=true`), spread
 * over the members; one writer PUTs a key under it; the figure is the time
 * from sending the write to the last watcher having its whole event (p50 and
 * p99 over the rounds), so it includes the commit of the write.
 *
 * A watcher is armed when its response headers arrive: etcd sends them as it
 * registers the watch (spec §7). Every request also carries `waitIndex`, so a
 * watcher that registers late still gets the event from history and nothing
 * is missed, only counted late.
 */
import { chooseSystems, type Run, runsFigure } from "../lib/harness.js";
import { HttpConnection, type HttpResponse } from "../lib/http.js";
import { benchValue } from "../lib/load.js";
import { type BenchOptions, parseOptions } from "../lib/options.js";
import { measureCalm, meterCpu } from "../lib/procstat.js";
import { percentile, round } from "../lib/stats.js";
import { type Cluster, startCluster } from "../lib/systems.js";
import type { Suite, SuiteContext } from "../suite.js";

const DIR = "/v2/keys/watchbench";
/** No single round may take longer than this (a stuck watcher fails the run loudly). */
const ROUND_TIMEOUT_MS = 30_000;

/** A round did not complete: some watcher never armed or never got its event. */
export class WatchRoundError extends Error {
  override readonly name = "WatchRoundError";
  readonly code = "BENCH_WATCH_ROUND";
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WatchRoundError(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function openAll(urls: readonly string[], count: number): Promise<HttpConnection[]> {
  const conns: HttpConnection[] = [];
  // Connect in batches: a thousand SYNs at once overflow small accept queues.
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) =>
      HttpConnection.open(urls[(i + j) % urls.length]!),
    );
    conns.push(...(await Promise.all(batch)));
  }
  return conns;
}

function modifiedIndex(res: HttpResponse): number {
  const body = JSON.parse(res.body.toString()) as { node?: { modifiedIndex?: number } };
  const index = body.node?.modifiedIndex;
  if (typeof index !== "number")
    throw new WatchRoundError(`no modifiedIndex in ${res.body.toString()}`);
  return index;
}

/** One run: `rounds` writes, each fanned out to every watcher. */
async function watchRun(cluster: Cluster, options: BenchOptions, ctx: SuiteContext): Promise<Run> {
  const leader = await cluster.leader();
  const writer = await HttpConnection.open(leader.clientUrl);
  const watchers = await openAll(
    cluster.members.map((m) => m.clientUrl),
    options.watchers,
  );
  const allNotified: number[] = [];
  const perWatcher: number[] = [];
  let clientCpu = 0;
  let serverCpu = 0;
  let wall = 0;
  let lateArming = 0;
  const body = `value=${benchValue()}`;
  try {
    const seed = await writer.send(writer.format("PUT", `${DIR}/seed`, body));
    let next = modifiedIndex(seed) + 1;
    for (let round = 0; round < options.rounds; round++) {
      let armed = 0;
      let allArmed: () => void = () => {};
      const armedPromise = new Promise<void>((resolve) => {
        allArmed = resolve;
      });
      let t0 = 0;
      const path = `${DIR}?wait=true&recursive=true&waitIndex=${next}`;
      const done = watchers.map((w) =>
        w
          .send(w.format("GET", path), {
            onHeaders() {
              if (++armed === watchers.length) allArmed();
            },
          })
          .then((res) => {
            const ms = performance.now() - t0;
            if (res.status !== 200) {
              throw new WatchRoundError(`watch answered ${res.status}: ${res.body.toString()}`);
            }
            return ms;
          }),
      );
      try {
        await within(armedPromise, 5_000, "all watchers armed");
      } catch {
        lateArming++;
      }
      const server = meterCpu(cluster.pids());
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      const put = await writer.send(writer.format("PUT", `${DIR}/key`, body));
      if (put.status !== 200 && put.status !== 201) {
        throw new WatchRoundError(`write answered ${put.status}: ${put.body.toString()}`);
      }
      const times = await within(Promise.all(done), ROUND_TIMEOUT_MS, "every watcher notified");
      const cpu = process.cpuUsage(cpu0);
      const used = server.stop();
      clientCpu += (cpu.user + cpu.system) / 1e6;
      serverCpu += used.cpuSeconds;
      wall += used.wallSeconds;
      allNotified.push(Math.max(...times));
      perWatcher.push(...times);
      next = modifiedIndex(put) + 1;
    }
  } finally {
    writer.close();
    for (const w of watchers) w.close();
  }
  if (lateArming > 0) {
    ctx.log(
      `!!! ${cluster.system.kind}: in ${lateArming} round(s) not every watcher had its headers within 5 s;` +
        " those rounds count from the write anyway",
    );
  }
  return {
    value: percentile(allNotified, 99),
    p50Ms: percentile(allNotified, 50),
    p99Ms: percentile(allNotified, 99),
    maxMs: Math.max(...allNotified),
    watcherP50Ms: percentile(perWatcher, 50),
    watcherP99Ms: percentile(perWatcher, 99),
    generatorCores: wall > 0 ? clientCpu / wall : 0,
    // What reading one notification costs the harness itself: with the
    // server's own pace per notification, shows whether the harness kept up.
    harnessUsPerEvent: (clientCpu * 1e6) / Math.max(1, perWatcher.length),
    serverCores: wall > 0 ? serverCpu / wall : 0,
  };
}

const suite: Suite = {
  name: "watch",
  description:
    "1,000 long-poll watchers on a directory, one writer: time from the write to every watcher notified",
  async run(ctx) {
    const options = parseOptions(ctx.args);
    const systems = chooseSystems(options, ctx);
    for (const members of options.members) {
      const clusters: Cluster[] = [];
      try {
        for (const system of systems) {
          ctx.log(`bench: starting ${system.label}, ${members} member(s)`);
          clusters.push(await startCluster(system, { size: members }));
        }
        const id = `watch w=${options.watchers} m=${members}`;
        // Each system first serves a run that is not counted. A fresh Node
        // member compiles its watch path in its first rounds (there 40–90 ms
        // to notify 1,000 watchers against 15–30 ms once warm): start-up, not
        // fan-out, and it would otherwise be the p99 of the first run.
        if (options.warmupRounds > 0) {
          for (const c of clusters) {
            const warm = await watchRun(c, { ...options, rounds: options.warmupRounds }, ctx);
            ctx.log(
              `  ${id} ${c.system.kind} warm-up (${options.warmupRounds} writes, not counted):` +
                ` all notified p50 ${round(warm.p50Ms!, 2)} ms, max ${round(warm.maxMs!, 2)} ms`,
            );
          }
        }
        const runs: Run[][] = clusters.map(() => []);
        for (let r = 0; r < options.runs; r++) {
          for (const [i, c] of clusters.entries()) {
            const { result, stealPct, runFields } = await measureCalm(
              options.maxStealPct,
              () => watchRun(c, options, ctx),
              { label: `${id} ${c.system.kind} run ${r + 1}/${options.runs}`, log: ctx.log },
            );
            const run: Run = { ...result, ...runFields };
            runs[i]!.push(run);
            ctx.log(
              `  ${id} ${c.system.kind} run ${r + 1}/${options.runs} (${options.rounds} writes):` +
                ` all notified p50 ${round(run.p50Ms!, 2)} ms, p99 ${round(run.p99Ms!, 2)} ms;` +
                ` per watcher p50 ${round(run.watcherP50Ms!, 2)} ms, p99 ${round(run.watcherP99Ms!, 2)} ms;` +
                ` cpu: harness ${round(run.generatorCores!, 2)} / server ${round(run.serverCores!, 2)} cores` +
                ` (harness ${round(run.harnessUsPerEvent!, 1)} µs per notification)` +
                (stealPct === undefined ? "" : `; steal ${round(stealPct, 1)}%`),
            );
          }
        }
        for (const [i, c] of clusters.entries()) {
          ctx.report(
            runsFigure({
              case: id,
              system: c.system,
              members,
              unit: "ms",
              better: "lower",
              runs: runs[i]!,
              context: {
                watchers: options.watchers,
                rounds: options.rounds,
                measure: "p99 of time to all notified",
              },
            }),
          );
        }
      } finally {
        await Promise.all(clusters.map((c) => c.stop()));
      }
    }
  },
};

export default suite;
