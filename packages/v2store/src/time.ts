import type { Micros } from "./types.js";

/**
 * Formats a time as Go's `time.RFC3339Nano` in UTC, the way etcd writes
 * `expiration` (spec §1.3): fractional zeros trimmed, no fraction when zero.
 * Microsecond precision: the last three of Go's nine digits are always zero
 * here, and Go trims them.
 */
export function formatRfc3339Nano(t: Micros): string {
  const ms = Math.floor(t / 1000);
  const micros = t - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  let frac = iso.slice(20, 23) + String(micros).padStart(3, "0");
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  return frac === "" ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${frac}Z`;
}
