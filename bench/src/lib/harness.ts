/**
 * What the side-by-side suites share: choosing the systems to measure (and
 * saying loudly which one is missing), and shaping a figure from its runs.
 */
import { resolve } from "node:path";
import type { Figure, SuiteContext } from "../suite.js";
import type { BenchOptions } from "./options.js";
import { median, round, spread } from "./stats.js";
import { buildCairn, cairnEntry, cairnSystem, etcdSystem, type SystemSpec } from "./systems.js";

/** Neither system can be measured. */
export class NoSystemError extends Error {
  override readonly name = "NoSystemError";
  readonly code = "BENCH_NO_SYSTEM";
}

/**
 * The systems this run measures, etcd first. A system asked for but absent is
 * named in a `!!!` line: its figures are missing, never invented, and no
 * ratio is computed for them.
 */
export function chooseSystems(options: BenchOptions, ctx: SuiteContext): SystemSpec[] {
  const chosen: SystemSpec[] = [];
  if (options.systems.includes("etcd")) {
    const etcd = etcdSystem();
    if (etcd === undefined) {
      ctx.log(
        "!!! ETCD NOT MEASURED: etcd is not installed (scripts/ensure-tools.sh installs it on Debian" +
          " as root); Cairn is measured alone and no Cairn/etcd ratio is reported.",
      );
    } else {
      chosen.push(etcd);
    }
  }
  if (options.systems.includes("cairn")) {
    const entry = options.cairnEntry === undefined ? cairnEntry() : resolve(options.cairnEntry);
    const failure = options.build && options.cairnEntry === undefined ? buildCairn() : undefined;
    if (failure !== undefined) ctx.log(`!!! bench: ${failure}`);
    const cairn = cairnSystem(options.runtime, entry);
    if (cairn === undefined) {
      ctx.log(
        `!!! CAIRN NOT MEASURED: ${entry} does not exist (apps/cairn is not built or not` +
          " written yet); only etcd's figures follow, with no Cairn/etcd ratio.",
      );
    } else {
      chosen.push(cairn);
    }
  }
  if (chosen.length === 0) {
    throw new NoSystemError("neither etcd nor Cairn can be started; nothing to measure");
  }
  for (const s of chosen)
    ctx.log(`bench: measuring ${s.label}: ${s.command} ${s.prefixArgs.join(" ")}`);
  return chosen;
}

/** Which way is better for a figure's value (a ratio > 1 is good only for `higher`). */
export type Better = "higher" | "lower";

/** One measured run of a figure. */
export interface Run {
  readonly value: number;
  readonly [field: string]: number;
}

/** The inputs of {@link runsFigure}. */
export interface RunsFigure {
  /** Stable id of what was measured, shared by both systems (pairs them for ratios). */
  readonly case: string;
  readonly system: SystemSpec;
  readonly members: number;
  readonly unit: string;
  readonly better: Better;
  readonly runs: readonly Run[];
  /** Extra context (connections, counts…). */
  readonly context?: Record<string, unknown>;
}

/**
 * A figure from its runs: the value is the median run's value and every other
 * numeric field of the runs is reported as its median too, with the spread of
 * the values, so one noisy run cannot make a figure.
 */
export function runsFigure(f: RunsFigure): Figure {
  const values = f.runs.map((r) => r.value);
  const fields = new Set(f.runs.flatMap((r) => Object.keys(r)).filter((k) => k !== "value"));
  const medians: Record<string, number> = {};
  for (const k of fields) {
    medians[k] = round(median(f.runs.map((r) => r[k] ?? Number.NaN)), 3);
  }
  return {
    name: `${f.case} ${f.system.kind}`,
    value: round(median(values), 2),
    unit: f.unit,
    case: f.case,
    system: f.system.kind,
    label: f.system.label,
    members: f.members,
    better: f.better,
    ...medians,
    spread: spread(values),
    runs: values.map((v) => round(v, 2)),
    ...(f.context ?? {}),
  };
}
