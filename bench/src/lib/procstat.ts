/**
 * What the kernel knows about a process: CPU time (`/proc/<pid>/stat`) and
 * resident memory (`/proc/<pid>/status`). Linux only, like the target
 * machine; elsewhere these return undefined and the figures say so.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of the CPU times in /proc (100 on every Linux we know). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) `pid` has used so far, or undefined if it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; fields after
  // the last ')' are fixed: state is field 3, utime 14, stime 15 (proc(5)).
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / clockTicks();
}

/** Peak (VmHWM) and current (VmRSS) resident set size of a process, in bytes. */
export interface MemoryUse {
  readonly peakBytes: number;
  readonly rssBytes: number;
}

/** Reads VmHWM and VmRSS of `pid`, or undefined if it is gone. */
export function memoryUse(pid: number): MemoryUse | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  };
  return { peakBytes: kb("VmHWM"), rssBytes: kb("VmRSS") };
}

/** CPU use of a set of processes over an interval: call `stop()` at its end. */
export interface CpuMeter {
  /** Cores used by the processes over the interval (0..nproc). */
  stop(): { cpuSeconds: number; cores: number; wallSeconds: number };
}

/** Starts measuring the CPU the processes `pids` use from now on. */
export function meterCpu(pids: readonly number[]): CpuMeter {
  const start = pids.map((p) => cpuSeconds(p) ?? 0);
  const t0 = performance.now();
  return {
    stop() {
      const wallSeconds = (performance.now() - t0) / 1000;
      let used = 0;
      pids.forEach((p, i) => {
        used += (cpuSeconds(p) ?? start[i]!) - start[i]!;
      });
      return { cpuSeconds: used, cores: wallSeconds > 0 ? used / wallSeconds : 0, wallSeconds };
    },
  };
}

/** The machine's CPU time so far from `/proc/stat`: all of it, and what the hypervisor took (steal). */
function machineTicks(): { total: number; steal: number } | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/stat", "utf8");
  } catch {
    return undefined;
  }
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (proc(5));
  // guest time is counted in user already.
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (fields === undefined || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) {
    return undefined;
  }
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, steal: fields[7]! };
}

/**
 * Measures the share of the machine's CPU time a hypervisor took from it
 * (steal) over an interval: on a shared virtual machine the host's load
 * slows every process here at random, and a figure measured while a quarter
 * of the CPU was stolen is not comparable with one measured with none.
 * `stop()` returns a percentage, or undefined off Linux.
 */
export function meterSteal(): { stop(): number | undefined } {
  const start = machineTicks();
  return {
    stop() {
      const end = machineTicks();
      if (start === undefined || end === undefined || end.total <= start.total) return undefined;
      return (100 * (end.steal - start.steal)) / (end.total - start.total);
    },
  };
}

/** What {@link measureCalm} returns. */
export interface CalmMeasure<T> {
  readonly result: T;
  /** CPU steal over the kept attempt, percent (undefined off Linux). */
  readonly stealPct: number | undefined;
  /** Attempts measured and discarded because of steal. */
  readonly discarded: number;
  /** The two as fields of a run: `stealPct` (when known) and `discardedRuns`. */
  readonly runFields: { stealPct?: number; discardedRuns: number };
}

/** Attempts {@link measureCalm} makes at most before it keeps the calmest. */
export const CALM_ATTEMPTS = 5;

/** How {@link measureCalm} reports and paces a discarded attempt. */
export interface CalmOptions {
  /** What is measured, for the log line of a discarded attempt. */
  readonly label: string;
  readonly log: (line: string) => void;
  /** Pause before measuring again (default 2 s, for the host's burst to pass). */
  readonly pauseMs?: number;
  /** Meters the steal over one attempt (default {@link meterSteal}; tests pass their own). */
  readonly meter?: () => { stop(): number | undefined };
}

/**
 * Runs `measure` and meters the CPU steal over it. With `maxStealPct` set,
 * an attempt during which the hypervisor took more than that is logged,
 * thrown away and measured again, up to {@link CALM_ATTEMPTS} in all. When
 * none is calm enough, the one with the least steal is kept: a later attempt
 * is no better a sample than an earlier one, and a burst that outlasts them
 * all would otherwise decide the figure.
 */
export async function measureCalm<T>(
  maxStealPct: number | undefined,
  measure: () => Promise<T>,
  options: CalmOptions,
): Promise<CalmMeasure<T>> {
  const meter = options.meter ?? meterSteal;
  let calmest: { result: T; stealPct: number; attempt: number } | undefined;
  for (let attempt = 1; ; attempt++) {
    const stolen = meter();
    const result = await measure();
    const stealPct = stolen.stop();
    const calm = maxStealPct === undefined || stealPct === undefined || stealPct <= maxStealPct;
    if (calm) return calmMeasure(result, stealPct, attempt - 1);
    if (calmest === undefined || stealPct < calmest.stealPct) {
      calmest = { result, stealPct, attempt };
    }
    if (attempt >= CALM_ATTEMPTS) {
      options.log(
        `  ${options.label}: no attempt under ${maxStealPct}% steal; kept attempt ${calmest.attempt} ` +
          `(steal ${Math.round(calmest.stealPct * 10) / 10}%), the calmest`,
      );
      return calmMeasure(calmest.result, calmest.stealPct, attempt - 1);
    }
    options.log(
      `  ${options.label} attempt ${attempt}: steal ${Math.round(stealPct * 10) / 10}%, measured again`,
    );
    await new Promise((r) => setTimeout(r, options.pauseMs ?? 2_000));
  }
}

function calmMeasure<T>(
  result: T,
  stealPct: number | undefined,
  discarded: number,
): CalmMeasure<T> {
  const runFields =
    stealPct === undefined ? { discardedRuns: discarded } : { stealPct, discardedRuns: discarded };
  return { result, stealPct, discarded, runFields };
}
