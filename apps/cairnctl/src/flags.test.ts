import { describe, expect, it } from "vitest";
import { type FlagDef, parseGoDuration, parseGoFlags, parseGoInt, reorderArgs } from "./flags.js";

const defs: FlagDef[] = [
  { names: ["ttl"], kind: "int", usage: "" },
  { names: ["recursive", "r"], kind: "bool", usage: "" },
  { names: ["with-value"], kind: "string", usage: "" },
  { names: ["timeout"], kind: "duration", defaultValue: "2s", usage: "" },
];

describe("Go flag parsing", () => {
  it("reads -x, --x, --x=v and --x v, stops at the first argument, consumes --", () => {
    const r = parseGoFlags(defs, ["-ttl", "5", "--with-value=a=b", "-r", "/k", "--ttl", "9"]);
    expect(r.values.get("ttl")).toBe(5);
    expect(r.values.get("with-value")).toBe("a=b");
    expect(r.values.get("recursive")).toBe(true);
    expect(r.rest).toEqual(["/k", "--ttl", "9"]);
    expect(parseGoFlags(defs, ["--", "-r"]).rest).toEqual(["-r"]);
    expect(parseGoFlags(defs, ["-", "x"]).rest).toEqual(["-", "x"]);
    expect(parseGoFlags(defs, []).values.get("timeout")).toBe(2000);
  });

  it("reports errors in Go's words", () => {
    const err = (args: string[]) => {
      try {
        parseGoFlags(defs, args);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err(["--nope"])).toBe("flag provided but not defined: -nope");
    expect(err(["--ttl"])).toBe("flag needs an argument: -ttl");
    expect(err(["--ttl", "abc"])).toBe('invalid value "abc" for flag -ttl: parse error');
    expect(err(["-r=maybe"])).toBe('invalid boolean value "maybe" for -r: parse error');
    expect(err(["---x"])).toBe("bad flag syntax: ---x");
    expect(err(["--timeout", "5"])).toBe('invalid value "5" for flag -timeout: parse error');
    expect(err(["-h"])).toBe("flag: help requested");
  });

  it("parses numbers and durations like strconv and time.ParseDuration", () => {
    expect([
      parseGoInt("10"),
      parseGoInt("0x10"),
      parseGoInt("010"),
      parseGoInt("-3"),
      parseGoInt("1_0"),
    ]).toEqual([10, 16, 8, -3, undefined]);
    expect([
      parseGoDuration("2s"),
      parseGoDuration("1m30s"),
      parseGoDuration("1.5h"),
      parseGoDuration("500ms"),
    ]).toEqual([2000, 90000, 5400000, 500]);
    expect([parseGoDuration("0"), parseGoDuration("5"), parseGoDuration("s")]).toEqual([
      0,
      undefined,
      undefined,
    ]);
  });
});

describe("urfave/cli 1.22 argument reordering", () => {
  it("moves defined flags (with their value) to the front", () => {
    expect(reorderArgs(defs, ["/k", "--ttl", "5", "v"])).toEqual(["--ttl", "5", "/k", "v"]);
    expect(reorderArgs(defs, ["/k", "-5"])).toEqual(["/k", "-5"]); // -5 is no defined flag: a value
    // a bool flag takes the next non-flag along; Go's parser then stops there
    expect(reorderArgs(defs, ["-r", "/q", "b", "--ttl", "50"])).toEqual([
      "-r",
      "/q",
      "--ttl",
      "50",
      "b",
    ]);
  });

  it("puts -- in front of the remaining arguments", () => {
    expect(reorderArgs(defs, ["--ttl", "5", "/k", "--", "sh", "-c", "x"])).toEqual([
      "--ttl",
      "5",
      "--",
      "/k",
      "sh",
      "-c",
      "x",
    ]);
    expect(reorderArgs(defs, ["-r", "/k", "--", "sh"])).toEqual(["-r", "/k", "--", "sh"]);
  });
});
