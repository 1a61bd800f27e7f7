/**
 * `a.slice(lo, hi)` with a fast path for the short ranges of the hot path (one Ready
 * per proposal copies one or two entries at a time): V8's `slice` is a builtin call
 * that costs more than copying a handful of elements in line. Same result, a packed
 * array. Internal: not exported from the package.
 */
export function sliceRange<T>(a: readonly T[], lo: number, hi: number): T[] {
  if (lo >= 0 && lo <= hi && hi <= a.length && hi - lo <= 8) {
    const out: T[] = [];
    for (let i = lo; i < hi; i++) out.push(a[i] as T);
    return out;
  }
  return a.slice(lo, hi);
}
