/**
 * A small seeded pseudo-random source (sfc32), so a Raft node's election timeouts are
 * reproducible: the core reads no global randomness (simulations replay from a seed).
 */

/** A source of uniformly distributed numbers in [0, 1). */
export type RandomSource = () => number;

/** Returns a deterministic {@link RandomSource} for `seed` (any 32-bit integer). */
export function seededRandom(seed: number): RandomSource {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs: sfc32 needs a few rounds to mix a small seed.
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** A uniformly distributed integer in [0, n). */
export function randomInt(random: RandomSource, n: number): number {
  return Math.floor(random() * n);
}
