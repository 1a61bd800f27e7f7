import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc32 } from "./crc32.js";

describe("crc32", () => {
  it("matches the published check value of CRC-32/IEEE", () => {
    // The standard check string "123456789" -> 0xCBF43926.
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
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
