import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.js";

describe("RateLimiter", () => {
  it("allows a burst, then refills at the rate, per address", () => {
    const l = new RateLimiter({ perSecond: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([l.take("a", t0), l.take("a", t0), l.take("a", t0)]).toEqual([0, 0, 0]);
    expect(l.take("a", t0)).toBe(1);
    expect(l.take("b", t0)).toBe(0); // another address has its own bucket
    expect(l.take("a", t0 + 499)).toBe(1); // 0.998 of a request refilled
    expect(l.take("a", t0 + 1000)).toBe(0); // 2 per second
    expect(l.take("a", t0 + 1000)).toBe(0);
    expect(l.take("a", t0 + 1000)).toBe(1);
    // a long pause refills to the burst, never beyond
    for (let i = 0; i < 3; i++) expect(l.take("a", t0 + 100_000)).toBe(0);
    expect(l.take("a", t0 + 100_000)).toBe(1);
  });

  it("Retry-After grows for slow rates", () => {
    const l = new RateLimiter({ perSecond: 0.1, burst: 1 });
    expect(l.take("a", 0)).toBe(0);
    expect(l.take("a", 0)).toBe(10);
  });

  it("drops idle buckets once many addresses are tracked", () => {
    const l = new RateLimiter({ perSecond: 1, burst: 1 });
    for (let i = 0; i < 10_000; i++) l.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(l.size).toBe(10_000);
    l.take("late", 5_000); // all earlier buckets have refilled by now
    expect(l.size).toBe(1);
  });

  it("refuses a limit that cannot admit anything", () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});
