import type { Micros } from "@cairn/v2store";

/** Wall-clock time in µs since the epoch, with sub-millisecond resolution where the runtime has it. */
export function nowMicros(): Micros {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A duration as Go's `time.Duration.String()` writes it, e.g. `12m36.173486s`. */
export function formatGoDuration(micros: number): string {
  if (micros === 0) return "0s";
  const neg = micros < 0;
  let u = Math.abs(Math.round(micros));
  let out: string;
  if (u < 1000) out = `${u}µs`;
  else if (u < 1_000_000) out = `${trimFrac(u / 1000)}ms`;
  else {
    const h = Math.floor(u / 3_600_000_000);
    u -= h * 3_600_000_000;
    const m = Math.floor(u / 60_000_000);
    u -= m * 60_000_000;
    const s = `${trimFrac(u / 1_000_000)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFrac(x: number): string {
  const s = x.toFixed(6);
  return s.replace(/\.?0+$/, "");
}
