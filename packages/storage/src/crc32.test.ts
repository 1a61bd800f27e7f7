import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32Portable, crc32 as native } from "./crc32.js";

// The same cases for the runtime's CRC (node:zlib here) and the portable one.
describe.each([
  ["crc32", native],
  ["crc32Portable", crc32Portable],
])("%s", (_name, crc32) => {
  it("matches the published check value of CRC-32/IEEE", () => {
    // The standard check string "123456789" -> 0xCBF43926.
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    // no bytes, even with no memory behind them, continue the CRC unchanged
    expect(crc32(new TextEncoder().encode(""), 0xcbf43926)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(new ArrayBuffer(0)), 5)).toBe(5);
  });

  it("continues across split inputs and all tail lengths", () => {
    const seed = createHash("sha256").update("cairn").digest();
    const data = new Uint8Array(1000);
    for (let i = 0; i < data.length; i++) data[i] = seed[i % seed.length]! ^ (i * 7);
    const whole = crc32(data);
    for (const cut of [0, 1, 7, 8, 9, 15, 16, 17, 500, 999, 1000]) {
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(whole);
    }
  });

  it("changes when one bit flips", () => {
    const data = new Uint8Array(256).fill(0x5a);
    const before = crc32(data);
    data[100]! ^= 0x01;
    expect(crc32(data)).not.toBe(before);
  });
});

describe("crc32 and crc32Portable", () => {
  it("agree on every length and start value", () => {
    const data = new Uint8Array(600);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 17) & 0xff;
    for (let n = 0; n <= data.length; n += 37) {
      for (const previous of [0, 1, 0xcbf43926, 0xffffffff]) {
        expect(native(data.subarray(0, n), previous)).toBe(
          crc32Portable(data.subarray(0, n), previous),
        );
      }
    }
  });
});
