/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib and gzip): node:zlib's native
 * one where the runtime has it (Node >= 20.15, Bun, Deno), else our own,
 * slicing-by-8, so that checksumming every appended entry stays small next
 * to the fsync it rides on. Every entry read back is checked too: a
 * restart's replay checksums its whole log, where the native CRC is about
 * twice as fast as ours once optimised, and much faster before the JIT has
 * warmed up (a short replay). Pure: no I/O.
 *
 * Everything in the portable one stays in signed 32-bit integers (Int32Array
 * tables, `| 0`) until the very end: values above 2^31 would otherwise become
 * doubles, which JavaScriptCore (Bun) in particular handles several times
 * slower.
 */
import * as zlib from "node:zlib";

const TABLES: Int32Array[] = (() => {
  const tables: Int32Array[] = [];
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c | 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const cur = new Int32Array(256);
    for (let n = 0; n < 256; n++) cur[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    tables.push(cur);
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/**
 * The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes
 * before, 0 to start), as an unsigned 32-bit number; in JavaScript only.
 */
export function crc32Portable(bytes: Uint8Array, previous = 0): number {
  let c = ~previous | 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a =
      c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      T7[a & 0xff]! ^
      T6[(a >>> 8) & 0xff]! ^
      T5[(a >>> 16) & 0xff]! ^
      T4[a >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = T0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (bytes: Uint8Array, previous?: number) => number;

/** node:zlib's crc32 when the runtime has one that agrees with ours on the check values. */
function nativeCrc32(): Crc32 | undefined {
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (typeof native !== "function") return undefined;
  try {
    const check = new TextEncoder().encode("123456789");
    const split = native(check.subarray(4), native(check.subarray(0, 4)));
    if (native(check) !== 0xcbf43926 || split !== 0xcbf43926) return undefined;
  } catch {
    return undefined;
  }
  // Node's answers 0 for an empty array with no memory behind it (e.g.
  // `new TextEncoder().encode("")`) whatever `previous` is: the CRC of no
  // bytes is `previous` itself.
  return (bytes, previous = 0) =>
    bytes.byteLength === 0 ? previous >>> 0 : native(bytes, previous) >>> 0;
}

/**
 * The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes
 * before, 0 to start), as an unsigned 32-bit number.
 */
export const crc32: Crc32 = nativeCrc32() ?? crc32Portable;
