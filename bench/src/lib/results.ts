/**
 * Results on disk and on the terminal: the figures table, the Cairn/etcd
 * ratio table, and the JSON + Markdown files under `bench/results/`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Figure } from "../suite.js";
import type { MachineInfo } from "./machine.js";
import { round } from "./stats.js";

/** Everything one harness invocation measured. */
export interface ResultDocument {
  readonly suite: string;
  readonly startedAt: string;
  readonly args: readonly string[];
  readonly machine: MachineInfo;
  readonly figures: readonly (Figure & { suite: string })[];
  readonly ratios: readonly Ratio[];
  /** Suites that failed, with their error. */
  readonly failures: readonly { suite: string; error: string }[];
}

/** Cairn's figure over etcd's for the same case. */
export interface Ratio {
  readonly suite: string;
  readonly case: string;
  readonly unit: string;
  readonly etcd: number;
  readonly cairn: number;
  /** cairn / etcd. */
  readonly ratio: number;
  readonly better: "higher" | "lower";
  /** True when Cairn is at or ahead of etcd on this figure. */
  readonly atOrAhead: boolean;
}

/** Pairs figures that carry `case` and `system` and divides Cairn's value by etcd's. */
export function ratios(figures: readonly (Figure & { suite: string })[]): Ratio[] {
  const out: Ratio[] = [];
  for (const e of figures) {
    if (e.system !== "etcd" || typeof e.case !== "string") continue;
    const c = figures.find((f) => f.system === "cairn" && f.case === e.case && f.suite === e.suite);
    if (c === undefined) continue;
    const better = e.better === "lower" ? "lower" : "higher";
    const ratio = e.value === 0 ? Number.NaN : c.value / e.value;
    out.push({
      suite: e.suite,
      case: e.case,
      unit: e.unit,
      etcd: e.value,
      cairn: c.value,
      ratio: round(ratio, 3),
      better,
      atOrAhead: better === "higher" ? ratio >= 1 : ratio <= 1,
    });
  }
  return out;
}

function fmt(v: unknown): string {
  if (typeof v !== "number") return v === undefined ? "" : String(v);
  if (!Number.isFinite(v)) return "n/a";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en");
  return String(round(v, Math.abs(v) >= 10 ? 1 : 3));
}

function spreadText(f: Figure): string {
  const s = f.spread as { pct?: number } | undefined;
  const runs = Array.isArray(f.runs) ? f.runs.length : undefined;
  if (s?.pct === undefined || runs === undefined) return "";
  return `±${s.pct}% (${runs} run${runs === 1 ? "" : "s"})`;
}

/** Rows of text cells: the figures. */
export function figureRows(figures: readonly Figure[]): string[][] {
  const rows = [
    ["figure", "value", "unit", "p50 ms", "p99 ms", "spread", "gen cpu", "srv cpu", "steal %"],
  ];
  for (const f of figures) {
    rows.push([
      f.name,
      fmt(f.value),
      f.unit,
      fmt(f.p50Ms),
      fmt(f.p99Ms),
      spreadText(f),
      fmt(f.generatorCores),
      fmt(f.serverCores),
      fmt(f.stealPct),
    ]);
  }
  return rows;
}

/** Rows of text cells: the ratios. */
export function ratioRows(list: readonly Ratio[]): string[][] {
  const rows = [["case", "unit", "etcd", "cairn", "cairn/etcd", "better", "cairn at/ahead"]];
  for (const r of list) {
    rows.push([
      `${r.suite}: ${r.case}`,
      r.unit,
      fmt(r.etcd),
      fmt(r.cairn),
      fmt(r.ratio),
      r.better,
      r.atOrAhead ? "yes" : "NO",
    ]);
  }
  return rows;
}

/** Aligned plain-text table for the terminal. */
export function textTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** A Markdown table. */
export function markdownTable(rows: readonly string[][]): string {
  const [head, ...body] = rows;
  const line = (r: readonly string[]) => `| ${r.join(" | ")} |`;
  return [
    line(head!),
    line(head!.map((_, i) => (i === 0 ? "---" : "---:"))),
    ...body.map(line),
  ].join("\n");
}

/** The Markdown report of a result. */
export function markdown(doc: ResultDocument): string {
  const m = doc.machine;
  const systems = new Set(doc.figures.map((f) => f.system).filter((s) => typeof s === "string"));
  const lines = [
    `# Cairn benchmark: ${doc.suite} (${doc.startedAt})`,
    "",
    `- command: \`pnpm bench ${[doc.suite, ...doc.args].join(" ")}\``,
    `- machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, load average ${m.loadAverage} at start`,
    `- versions: node ${m.versions.node}, etcd ${m.versions.etcd}, Cairn ${m.versions.cairn} under ${m.versions.cairnRuntime}, ${m.versions.wrk}`,
    "- each value is the median of its runs; spread is (max − min) / median; cpu columns are cores used",
    "",
    "## Figures",
    "",
    markdownTable(figureRows(doc.figures)),
    "",
    "## Cairn/etcd",
    "",
  ];
  if (doc.ratios.length > 0) {
    lines.push(markdownTable(ratioRows(doc.ratios)));
  } else if (!systems.has("cairn")) {
    lines.push(
      "Cairn was not measured in this run (no `apps/cairn/dist/main.js`): ratios pending.",
    );
  } else {
    lines.push("etcd was not measured in this run: no ratios.");
  }
  if (doc.failures.length > 0) {
    lines.push("", "## Failures", "", ...doc.failures.map((f) => `- ${f.suite}: ${f.error}`));
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `<dir>/<date>-<suite>.json` and `.md`; returns the two paths. */
export function writeResults(dir: string, doc: ResultDocument): [string, string] {
  mkdirSync(dir, { recursive: true });
  const stamp = doc.startedAt.replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const base = join(dir, `${stamp}-${doc.suite}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(doc));
  return [`${base}.json`, `${base}.md`];
}
