/**
 * The flags every side-by-side suite understands. Parsing is strict: a
 * misspelt flag stops the run instead of silently measuring something else.
 */
import type { Runtime } from "@cairn/testkit";
import type { SystemKind } from "./systems.js";

/** Parsed options of a side-by-side suite. */
export interface BenchOptions {
  /** Short smoke run: 1 run, 1 s load, small counts. */
  readonly quick: boolean;
  /** Runs per figure; the figure is their median. */
  readonly runs: number;
  /** Seconds of load per run of a throughput figure. */
  readonly durationSec: number;
  /** Topologies to measure (1 and/or 3 members). */
  readonly members: readonly number[];
  /** Runtime Cairn's member runs under. */
  readonly runtime: Runtime;
  /** Systems to measure, when available. */
  readonly systems: readonly SystemKind[];
  /** Load generator for throughput figures. */
  readonly generator: "wrk" | "node";
  /** wrk threads (it shares the cores with the server; one is enough here). */
  readonly wrkThreads: number;
  /** Writes before a restart (recovery). */
  readonly writes: number;
  /** Keys held while RSS is sampled (memory). */
  readonly memoryKeys: number;
  /** Long-poll watchers (watch). */
  readonly watchers: number;
  /** Writes (rounds) per watch run. */
  readonly rounds: number;
  /** Watch: writes of an uncounted run each system serves before the measured runs. */
  readonly warmupRounds: number;
  /** Build Cairn's member before measuring it. */
  readonly build: boolean;
  /** Cairn's member entry file, when not `apps/cairn/dist/main.js` (e.g. another build). */
  readonly cairnEntry: string | undefined;
  /** http and watch: measure a run again when the VM's CPU steal over it exceeded this (percent). */
  readonly maxStealPct: number | undefined;
}

/** A flag the suites do not know, or a bad value. */
export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
  readonly code = "BENCH_USAGE";
}

/** The flags and what they mean, for `--help` and errors. */
export const OPTIONS_HELP = `options:
  --quick               short smoke run (1 run, 1 s of load, small counts)
  --runs N              runs per figure, reported as their median and spread (default 3)
  --duration SEC        seconds of load per throughput run (default 10)
  --members 1|3|1,3     single member, 3-member cluster, or both (default 1)
  --runtime node|bun|deno   runtime of Cairn's member (default node)
  --systems etcd,cairn  which systems to measure when available (default both)
  --generator wrk|node  load generator (default wrk; node when wrk is unavailable)
  --wrk-threads N       wrk threads (default 1)
  --writes N            recovery: writes before the restart (default 1000000)
  --keys N              memory: keys held while RSS is sampled (default 100000)
  --watchers N          watch: long-poll watchers (default 1000)
  --rounds N            watch: writes per run (default 20)
  --warmup-rounds N     watch: writes of an uncounted run before the measured ones, per system
                        (default 5; 0 for none)
  --no-build            do not build apps/cairn before measuring it
  --cairn-entry FILE    measure this member entry instead of apps/cairn/dist/main.js
  --max-steal PCT       http, watch: measure a run again (up to 5 times in all) while the
                        hypervisor took more than PCT % of the CPU during it (default: keep all)
  --no-save             (harness) do not write bench/results/
  --results-dir DIR     (harness) write results there instead of bench/results/`;

/** A whole number of at least `min` (1 unless told), or a usage error naming `flag`. */
function wholeNumber(flag: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (value === undefined || value === "" || !Number.isInteger(n) || n < min) {
    const what = min === 0 ? "a whole number, 0 or more" : "a positive integer";
    throw new BenchUsageError(`${flag} needs ${what}, not '${value ?? ""}'`);
  }
  return n;
}

function positiveInt(flag: string, value: string | undefined): number {
  return wholeNumber(flag, value);
}

/** Parses a suite's arguments. */
export function parseOptions(args: readonly string[]): BenchOptions {
  const quick = args.includes("--quick");
  const o = {
    quick,
    runs: quick ? 1 : 3,
    durationSec: quick ? 1 : 10,
    members: [1] as number[],
    runtime: "node" as Runtime,
    systems: ["etcd", "cairn"] as SystemKind[],
    generator: "wrk" as "wrk" | "node",
    wrkThreads: 1,
    writes: quick ? 10_000 : 1_000_000,
    memoryKeys: quick ? 10_000 : 100_000,
    watchers: quick ? 100 : 1_000,
    rounds: quick ? 5 : 20,
    warmupRounds: quick ? 1 : 5,
    build: true,
    cairnEntry: undefined as string | undefined,
    maxStealPct: undefined as number | undefined,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const [name, inline] = flag.includes("=") ? flag.split("=", 2) : [flag, undefined];
    const value = () => inline ?? args[++i];
    switch (name) {
      case "--quick":
        break;
      case "--runs":
        o.runs = positiveInt(name, value());
        break;
      case "--duration":
        o.durationSec = positiveInt(name, value());
        break;
      case "--members": {
        const v = value() ?? "";
        const list = v.split(",").map((s) => Number(s));
        if (list.length === 0 || list.some((n) => n !== 1 && n !== 3)) {
          throw new BenchUsageError(`--members takes 1, 3 or 1,3, not '${v}'`);
        }
        o.members = list;
        break;
      }
      case "--runtime": {
        const v = value();
        if (v !== "node" && v !== "bun" && v !== "deno") {
          throw new BenchUsageError(`--runtime takes node, bun or deno, not '${v ?? ""}'`);
        }
        o.runtime = v;
        break;
      }
      case "--systems": {
        const v = value() ?? "";
        const list = v.split(",");
        if (list.length === 0 || list.some((s) => s !== "etcd" && s !== "cairn")) {
          throw new BenchUsageError(`--systems takes etcd, cairn or etcd,cairn, not '${v}'`);
        }
        o.systems = list as SystemKind[];
        break;
      }
      case "--generator": {
        const v = value();
        if (v !== "wrk" && v !== "node") {
          throw new BenchUsageError(`--generator takes wrk or node, not '${v ?? ""}'`);
        }
        o.generator = v;
        break;
      }
      case "--wrk-threads":
        o.wrkThreads = positiveInt(name, value());
        break;
      case "--writes":
        o.writes = positiveInt(name, value());
        break;
      case "--keys":
        o.memoryKeys = positiveInt(name, value());
        break;
      case "--watchers":
        o.watchers = positiveInt(name, value());
        break;
      case "--rounds":
        o.rounds = positiveInt(name, value());
        break;
      case "--warmup-rounds":
        o.warmupRounds = wholeNumber(name, value(), 0);
        break;
      case "--no-build":
        o.build = false;
        break;
      case "--cairn-entry": {
        const v = value();
        if (v === undefined || v === "") throw new BenchUsageError("--cairn-entry needs a file");
        o.cairnEntry = v;
        break;
      }
      case "--max-steal": {
        const v = value();
        const n = Number(v);
        if (v === undefined || v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 100) {
          throw new BenchUsageError(
            `--max-steal needs a percentage from 0 to 100, not '${v ?? ""}'`,
          );
        }
        o.maxStealPct = n;
        break;
      }
      default:
        throw new BenchUsageError(`unknown option '${flag}'\n${OPTIONS_HELP}`);
    }
  }
  return o;
}
