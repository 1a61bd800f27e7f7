/**
 * `pnpm bench recovery`: how long a member takes to come back. Each system
 * takes N writes (default 1,000,000 over the 10,000 keys, `--writes` to
 * shrink), then one member is stopped gracefully and started again on the
 * same data directory; the figure is the time from spawning it to the member
 * being healthy and serving the last value written.
 *
 * Two variants: without a snapshot (`--snapshot-count` above N, so the whole
 * log is replayed) and with snapshots (`--snapshot-count` N/10, at least
 * 1,000, so only the tail after the last snapshot is).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "@cairn/testkit";
import { chooseSystems, type Run, runsFigure } from "../lib/harness.js";
import { benchValue, KEY_COUNT, KEY_PREFIX, writeKeys } from "../lib/load.js";
import { parseOptions } from "../lib/options.js";
import { round } from "../lib/stats.js";
import { type Cluster, type Member, MemberStartError, startCluster } from "../lib/systems.js";
import type { Suite } from "../suite.js";

/** The longest a restart may take before the run fails loudly. */
const RESTART_TIMEOUT_MS = 300_000;

function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** True when `member` answers `key` with `value` (a plain, local v2 GET). */
async function serves(member: Member, key: string, value: string): Promise<boolean> {
  try {
    const res = await fetch(`${member.clientUrl}${key}`, { signal: AbortSignal.timeout(1_000) });
    if (res.status !== 200) return false;
    const body = (await res.json()) as { node?: { value?: unknown } };
    return body.node?.value === value;
  } catch {
    return false;
  }
}

/** Stops `member`, starts it again, and measures until it is healthy and serving. */
async function restart(member: Member, key: string, value: string): Promise<Run> {
  await member.stop();
  const t0 = performance.now();
  member.start();
  let healthyMs = Number.NaN;
  for (;;) {
    if (member.pid() === undefined) {
      throw new MemberStartError(`${member.name} exited during restart:\n${member.stderrTail()}`);
    }
    if (Number.isNaN(healthyMs) && (await member.healthy())) healthyMs = performance.now() - t0;
    if (!Number.isNaN(healthyMs) && (await serves(member, key, value))) break;
    if (performance.now() - t0 > RESTART_TIMEOUT_MS) {
      throw new MemberStartError(
        `${member.name} not serving ${RESTART_TIMEOUT_MS} ms after restart`,
      );
    }
    await sleep(5);
  }
  return { value: performance.now() - t0, healthyMs };
}

const suite: Suite = {
  name: "recovery",
  description: "time for a member to restart and serve after N writes, with and without a snapshot",
  async run(ctx) {
    const options = parseOptions(ctx.args);
    const systems = chooseSystems(options, ctx);
    const value = benchValue();
    // The last write goes to this key; serving it proves the whole log is back.
    const lastKey = `${KEY_PREFIX}${(options.writes - 1) % KEY_COUNT}`;
    const variants = [
      { what: "no-snapshot", snapshotCount: options.writes * 2 + 10_000 },
      { what: "snapshot", snapshotCount: Math.max(1_000, Math.floor(options.writes / 10)) },
    ];
    for (const members of options.members) {
      for (const variant of variants) {
        const id = `restart after ${options.writes} writes ${variant.what} m=${members}`;
        const clusters: Cluster[] = [];
        const loadRates: number[] = [];
        try {
          for (const system of systems) {
            ctx.log(
              `bench: starting ${system.label}, ${members} member(s), --snapshot-count ${variant.snapshotCount}`,
            );
            const c = await startCluster(system, {
              size: members,
              flags: ["--snapshot-count", String(variant.snapshotCount)],
            });
            clusters.push(c);
            const leader = await c.leader();
            ctx.log(`bench: ${system.label}: ${options.writes.toLocaleString("en")} writes`);
            const rate = await writeKeys({
              urls: [leader.clientUrl],
              writes: options.writes,
              keys: KEY_COUNT,
              log: ctx.log,
            });
            loadRates.push(rate);
            ctx.log(
              `bench: ${system.label}: loaded at ${Math.round(rate).toLocaleString("en")} writes/s`,
            );
          }
          const runs: Run[][] = clusters.map(() => []);
          for (let r = 0; r < options.runs; r++) {
            for (const [i, c] of clusters.entries()) {
              // In a cluster restart a follower: the figure is recovery of
              // one member's state, not a leader election.
              const leader = await c.leader();
              const member = c.members.find((m) => m !== leader) ?? leader;
              const run = await restart(member, lastKey, value);
              const sized = { ...run, dataDirMiB: dirBytes(member.dataDir) / 2 ** 20 };
              runs[i]!.push(sized);
              ctx.log(
                `  ${id} ${c.system.kind} run ${r + 1}/${options.runs}: serving after ${round(run.value, 1)} ms` +
                  ` (healthy after ${round(run.healthyMs!, 1)} ms), data dir ${round(sized.dataDirMiB, 1)} MiB`,
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
                  writes: options.writes,
                  snapshotCount: variant.snapshotCount,
                  loadWritesPerSec: Math.round(loadRates[i] ?? Number.NaN),
                },
              }),
            );
          }
        } finally {
          await Promise.all(clusters.map((c) => c.stop()));
        }
      }
    }
  },
};

export default suite;
