/**
 * Keeps the harness from rotting: runs the built harness (`dist/main.js`)
 * in its shortest mode against etcd and checks what a user relies on — every
 * stdout line is a JSON figure, the results files are written, and every
 * process it started (members, wrk) is gone afterwards with its temporary
 * directories. These are not benchmarks: the values are only checked to be
 * measured numbers, never compared.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findProgram, programOrSkip, tempDir } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { runsFigure } from "./lib/harness.js";
import { BenchUsageError, parseOptions } from "./lib/options.js";
import { CALM_ATTEMPTS, measureCalm } from "./lib/procstat.js";
import { markdown, ratios } from "./lib/results.js";
import { LatencyHistogram, median, percentile, spread } from "./lib/stats.js";
import type { SystemSpec } from "./lib/systems.js";
import type { Figure } from "./suite.js";

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, "..", "dist", "main.js");

describe("statistics", () => {
  it("takes nearest-rank percentiles and medians", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(spread([90, 100, 110]).pct).toBe(20);
  });

  it("keeps histogram percentiles within about 1% of the exact ones", () => {
    const h = new LatencyHistogram();
    const xs = Array.from({ length: 10_000 }, (_, i) => 50 + i * 3);
    for (const x of xs) h.record(x);
    for (const p of [50, 90, 99]) {
      const exact = percentile(xs, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.011);
    }
  });
});

describe("watch warm-up", () => {
  it("--warmup-rounds takes a count, 0 included", () => {
    expect(parseOptions([]).warmupRounds).toBe(5);
    expect(parseOptions(["--quick"]).warmupRounds).toBe(1);
    expect(parseOptions(["--warmup-rounds", "0"]).warmupRounds).toBe(0);
    expect(parseOptions(["--warmup-rounds=12"]).warmupRounds).toBe(12);
    for (const bad of ["", "x", "-1", "1.5"]) {
      expect(() => parseOptions(["--warmup-rounds", bad])).toThrow(BenchUsageError);
    }
  });
});

describe("CPU steal", () => {
  // /proc/stat counts in ticks of 10 ms: an attempt must last a few of them.
  const pause = () => new Promise((r) => setTimeout(r, 40));

  it("--max-steal takes a percentage, and only that", () => {
    expect(parseOptions([]).maxStealPct).toBeUndefined();
    expect(parseOptions(["--max-steal", "5"]).maxStealPct).toBe(5);
    expect(parseOptions(["--max-steal=2.5"]).maxStealPct).toBe(2.5);
    for (const bad of ["", "x", "-1", "101"]) {
      expect(() => parseOptions(["--max-steal", bad])).toThrow(BenchUsageError);
    }
    expect(() => parseOptions(["--max-steal"])).toThrow("--max-steal needs a percentage");
  });

  it("keeps the first attempt when no limit is set, with the steal metered over it", async () => {
    let calls = 0;
    const m = await measureCalm(
      undefined,
      async () => {
        await pause();
        return ++calls;
      },
      { label: "x", log: () => {}, pauseMs: 0 },
    );
    expect(m).toMatchObject({ result: 1, discarded: 0 });
    expect(m.runFields).toEqual({ stealPct: m.stealPct, discardedRuns: 0 });
    expect(calls).toBe(1);
    // Linux: a share of the machine's CPU time, in percent.
    expect(m.stealPct).toBeGreaterThanOrEqual(0);
    expect(m.stealPct).toBeLessThanOrEqual(100);
  });

  it("measures again while the steal is over the limit, then keeps the calmest attempt", async () => {
    // The host's steal over five attempts, none under the 5 % limit.
    const steals = [30, 10, 50, 20, 40];
    let metered = 0;
    const meter = () => {
      const steal = steals[metered++];
      return { stop: () => steal };
    };
    let calls = 0;
    const lines: string[] = [];
    const m = await measureCalm(5, async () => ++calls, {
      label: "put c=1 m=1 cairn run 1/3",
      log: (l) => lines.push(l),
      pauseMs: 0,
      meter,
    });
    expect(calls).toBe(CALM_ATTEMPTS);
    expect(lines).toHaveLength(CALM_ATTEMPTS);
    for (const [i, l] of lines.slice(0, -1).entries()) {
      expect(l).toBe(
        `  put c=1 m=1 cairn run 1/3 attempt ${i + 1}: steal ${steals[i]}%, measured again`,
      );
    }
    expect(lines.at(-1)).toBe(
      "  put c=1 m=1 cairn run 1/3: no attempt under 5% steal; kept attempt 2 (steal 10%), the calmest",
    );
    expect(m).toMatchObject({ result: 2, stealPct: 10, discarded: CALM_ATTEMPTS - 1 });
    expect(m.runFields).toEqual({ stealPct: 10, discardedRuns: CALM_ATTEMPTS - 1 });
    // An attempt under the limit ends the search at once.
    const early = [30, 3, 1];
    let n = 0;
    const second = await measureCalm(5, async () => n, {
      label: "x",
      log: () => {},
      pauseMs: 0,
      meter: () => {
        const steal = early[n++];
        return { stop: () => steal };
      },
    });
    expect(second).toMatchObject({ result: 2, stealPct: 3, discarded: 1 });
    // A limit every interval meets: the first attempt is kept.
    const calm = await measureCalm(
      100,
      async () => {
        await pause();
        return "ok";
      },
      { label: "x", log: (l) => lines.push(l), pauseMs: 0 },
    );
    expect(calm.discarded).toBe(0);
    expect(lines).toHaveLength(CALM_ATTEMPTS);
  });
});

describe("figures and ratios", () => {
  const system = (kind: "etcd" | "cairn"): SystemSpec => ({
    kind,
    label: kind,
    command: "/bin/true",
    prefixArgs: [],
    extraFlags: [],
    version: "test",
  });
  const figure = (
    kind: "etcd" | "cairn",
    values: number[],
    better: "higher" | "lower",
  ): Figure & { suite: string } => ({
    suite: "s",
    ...runsFigure({
      case: "c",
      system: system(kind),
      members: 1,
      unit: "u",
      better,
      runs: values.map((value) => ({ value, p99Ms: value / 10 })),
    }),
  });

  it("reports the median run, the other fields' medians and the spread", () => {
    const f = figure("etcd", [100, 300, 200], "higher");
    expect(f.value).toBe(200);
    expect(f.p99Ms).toBe(20);
    expect(f.runs).toEqual([100, 300, 200]);
    expect(f.spread).toEqual({ min: 100, max: 300, pct: 100 });
    expect(f.name).toBe("c etcd");
  });

  it("pairs Cairn with etcd by case and reads the ratio in the figure's direction", () => {
    const faster = ratios([figure("etcd", [100], "higher"), figure("cairn", [150], "higher")]);
    expect(faster).toEqual([expect.objectContaining({ case: "c", ratio: 1.5, atOrAhead: true })]);
    const slower = ratios([figure("etcd", [100], "lower"), figure("cairn", [150], "lower")]);
    expect(slower).toEqual([expect.objectContaining({ ratio: 1.5, atOrAhead: false })]);
    expect(ratios([figure("etcd", [100], "higher")])).toEqual([]);
  });

  it("says in the Markdown when Cairn was not measured", () => {
    const md = markdown({
      suite: "s",
      startedAt: "2026-01-01T00:00:00.000Z",
      args: [],
      machine: {
        cores: 2,
        cpuModel: "cpu",
        memoryGiB: 1,
        kernel: "k",
        loadAverage: 0,
        versions: {
          node: "v20",
          cairnRuntime: "bun 1.4.5",
          etcd: "3.4.23",
          cairn: "abc",
          wrk: "wrk",
        },
      },
      figures: [figure("etcd", [100], "higher")],
      ratios: [],
      failures: [],
    });
    expect(md).toContain("| c etcd | 100 | u |");
    expect(md).toContain("Cairn was not measured in this run");
    expect(md).toContain("Cairn abc under bun 1.4.5");
  });
});

interface HarnessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built harness with a unique tag in its environment, which every child inherits. */
function runHarness(args: string[], env: NodeJS.ProcessEnv): Promise<HarnessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGINT"), 100_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Pids of live processes whose environment carries `tag` (children of the harness). */
function processesTagged(tag: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").includes(tag)) found.push(Number(entry));
    } catch {
      // gone already, or not ours to read
    }
  }
  return found;
}

const etcd = programOrSkip("etcd", "the bench harness smoke test");
describe.skipIf(!etcd)("the harness against etcd", () => {
  it("reports JSON figures for every suite, writes results, and leaves no process behind", async () => {
    expect(existsSync(main), "bench is built (dist/main.js)").toBe(true);
    const tag = `CAIRN_BENCH_SMOKE_${process.pid}_${Date.now()}`;
    const tmp = tempDir("cairn-bench-smoke-");
    const results = tempDir("cairn-bench-results-");
    // TMPDIR points the harness's data and script directories into `tmp`,
    // so "nothing left behind" is checkable on disk too.
    const env = { ...process.env, [tag]: "1", TMPDIR: tmp.path };
    const generator = findProgram("wrk") === undefined ? "node" : "wrk";
    try {
      const common = ["--quick", "--systems", "etcd", "--no-build", "--generator", generator];
      const runs = [
        await runHarness(["http", ...common, "--save", "--results-dir", results.path], env),
        await runHarness(["watch", ...common, "--watchers", "20", "--rounds", "2"], env),
        await runHarness(["recovery", ...common, "--writes", "300"], env),
        await runHarness(["memory", ...common, "--keys", "300"], env),
      ];
      const figures: Record<string, unknown>[] = [];
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(0);
        const lines = run.stdout.trim().split("\n");
        for (const line of lines) {
          const f = JSON.parse(line) as Record<string, unknown>;
          expect(typeof f.suite).toBe("string");
          expect(typeof f.name).toBe("string");
          expect(typeof f.unit).toBe("string");
          expect(Number.isFinite(f.value)).toBe(true);
          expect(f.value as number).toBeGreaterThan(0);
          expect(f.system).toBe("etcd");
          expect(f.runs).toEqual([f.value]);
          figures.push(f);
        }
      }
      const bySuite = (s: string) => figures.filter((f) => f.suite === s).map((f) => f.case);
      expect(bySuite("http")).toEqual([
        "put c=1 m=1",
        "put c=16 m=1",
        "put c=64 m=1",
        "get c=64 m=1",
        "get-quorum c=64 m=1",
        "mix-90-10 c=64 m=1",
      ]);
      for (const f of figures.filter((x) => x.suite === "http")) {
        expect(f.errors).toBe(0);
        expect(f.generatorCores as number).toBeGreaterThan(0);
        expect(f.p99Ms as number).toBeGreaterThanOrEqual(f.p50Ms as number);
        // The share of CPU the hypervisor took during the runs, a percentage.
        expect(f.stealPct as number).toBeGreaterThanOrEqual(0);
        expect(f.stealPct as number).toBeLessThanOrEqual(100);
      }
      expect(bySuite("watch")).toEqual(["watch w=20 m=1"]);
      expect(bySuite("recovery")).toEqual([
        "restart after 300 writes no-snapshot m=1",
        "restart after 300 writes snapshot m=1",
      ]);
      expect(bySuite("memory")).toEqual(["peak rss 300 keys m=1"]);

      const written = readdirSync(results.path).sort();
      expect(written).toHaveLength(2);
      expect(written[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-http\.json$/);
      expect(written[1]).toMatch(/-http\.md$/);
      const doc = JSON.parse(readFileSync(join(results.path, written[0]!), "utf8")) as {
        machine: { cores: number; versions: { etcd: string; cairnRuntime: string } };
        figures: unknown[];
      };
      expect(doc.machine.cores).toBeGreaterThan(0);
      expect(doc.machine.versions.etcd).toMatch(/^\d+\.\d+\.\d+/);
      expect(doc.machine.versions.cairnRuntime).toBe(`node ${process.version}`);
      expect(doc.figures).toHaveLength(6);
      expect(readFileSync(join(results.path, written[1]!), "utf8")).toContain(
        "| put c=64 m=1 etcd |",
      );

      // Everything the harness started is gone, and so are its directories.
      expect(processesTagged(tag)).toEqual([]);
      expect(readdirSync(tmp.path)).toEqual([]);
    } finally {
      for (const pid of processesTagged(tag)) process.kill(pid, "SIGKILL");
      tmp.remove();
      results.remove();
    }
  }, 480_000);
});
