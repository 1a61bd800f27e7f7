import { describe, expect, it } from "vitest";
import { bytesToBinary, decodeGoUtf8, parseMediaType, parseQueryInto } from "./form.js";

const bytes = (...b: number[]) => new Uint8Array(b);

describe("form body bytes", () => {
  it("keeps one char per byte, ASCII or not", () => {
    expect(bytesToBinary(new TextEncoder().encode("value=abc&ttl=5"))).toBe("value=abc&ttl=5");
    expect(bytesToBinary(bytes())).toBe("");
    // é as UTF-8, then a byte that is no UTF-8 at all: still one char each.
    expect(bytesToBinary(bytes(0x41, 0xc3, 0xa9, 0xff, 0x42))).toBe("A\xc3\xa9\xffB");
    // A BOM is three bytes like any others, not dropped as a decoder would.
    expect(bytesToBinary(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe("\xef\xbb\xbfa");
  });

  it("decodes UTF-8 in a byte string as Go does, past an ASCII prefix", () => {
    expect(decodeGoUtf8("x".repeat(300))).toBe("x".repeat(300));
    expect(decodeGoUtf8("caf\xc3\xa9!")).toBe("café!");
    expect(decodeGoUtf8(`${"a".repeat(100)}\xf0\x9f\x98\x80`)).toBe(`${"a".repeat(100)}😀`);
    // An invalid byte survives as U+DC00 + byte; an overlong is invalid.
    expect(decodeGoUtf8("a\xffb")).toBe("a\udcffb");
    expect(decodeGoUtf8("\xc0\xaf")).toBe("\udcc0\udcaf");
  });

  it("parses a body with raw UTF-8 and escapes alike", () => {
    const form = new Map<string, string>();
    const enc = (t: string) => [...new TextEncoder().encode(t)];
    const body = bytesToBinary(new Uint8Array([...enc("value=caf"), 0xc3, 0xa9, ...enc("&t=1")]));
    expect(parseQueryInto(form, body)).toBeUndefined();
    expect(parseQueryInto(form, "prevValue=%C3%A9+x")).toBeUndefined();
    expect(Object.fromEntries(form)).toEqual({ value: "café", t: "1", prevValue: "é x" });
  });
});

describe("parseMediaType", () => {
  it("answers the form type, however it is spelled", () => {
    expect(parseMediaType("application/x-www-form-urlencoded")).toEqual({
      type: "application/x-www-form-urlencoded",
    });
    expect(parseMediaType("Application/X-WWW-Form-Urlencoded")).toEqual({
      type: "application/x-www-form-urlencoded",
    });
    expect(parseMediaType("application/x-www-form-urlencoded; charset=utf-8")).toEqual({
      type: "application/x-www-form-urlencoded",
    });
  });

  it("keeps Go's errors", () => {
    expect(parseMediaType("application/x-www-form-urlencoded; charset")).toEqual({
      type: "application/x-www-form-urlencoded",
      error: "mime: invalid media parameter",
    });
    expect(parseMediaType("text")).toEqual({
      type: "",
      error: "mime: expected slash after first token",
    });
    expect(parseMediaType("")).toEqual({ type: "", error: "mime: no media type" });
  });
});
