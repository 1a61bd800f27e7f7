import { describe, expect, test } from "vitest";
import { createJsonLogger, kebabCase, type Logger, silentLogger } from "./logger.js";

/** A logger writing into an array, with a fixed clock. */
function capture(level?: Parameters<typeof createJsonLogger>[0]["level"]) {
  const lines: string[] = [];
  const logger = createJsonLogger({
    sink: (line) => lines.push(line),
    now: () => new Date(Date.UTC(2026, 10, 22, 0, 36, 35, 6)),
    ...(level === undefined ? {} : { level }),
  });
  return {
    logger,
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("JSON-lines logger", () => {
  test("golden line: level, ts (RFC 3339, ms, UTC as etcd's zap), msg, then fields", () => {
    const { logger, lines } = capture();
    logger.info("became leader", { term: 2, "local-member-id": "8e9e05c52164694d" });
    expect(lines).toEqual([
      '{"level":"info","ts":"2026-11-22T00:36:35.006Z","msg":"became leader","term":2,"local-member-id":"8e9e05c52164694d"}\n',
    ]);
  });

  test("one line per call, each a complete JSON object ending in a newline", () => {
    const { logger, lines } = capture("debug");
    logger.debug("a");
    logger.info("b\nwith a newline inside");
    logger.warn("c", { x: 'quote " and \\ backslash' });
    logger.error("d");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.slice(0, -1)).not.toContain("\n");
      JSON.parse(line);
    }
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual([
      "debug",
      "info",
      "warn",
      "error",
    ]);
  });

  test("field names come out kebab-case", () => {
    const { logger, parsed } = capture();
    logger.info("m", { memberId: "a", peer_url: "b", "already-kebab": 1, HTTPStatus: 500 });
    expect(Object.keys(parsed()[0]!)).toEqual([
      "level",
      "ts",
      "msg",
      "member-id",
      "peer-url",
      "already-kebab",
      "http-status",
    ]);
  });

  test("levels below the threshold are dropped; info by default", () => {
    const { logger, parsed } = capture();
    logger.debug("hidden");
    logger.info("shown");
    expect(parsed().map((l) => l.msg)).toEqual(["shown"]);
    const strict = capture("error");
    strict.logger.warn("hidden");
    strict.logger.error("shown");
    expect(strict.parsed().map((l) => l.msg)).toEqual(["shown"]);
    const fatalOnly = capture("fatal");
    fatalOnly.logger.error("hidden");
    expect(fatalOnly.lines).toEqual([]);
  });

  test("child loggers add fields to every line; the call's own fields win", () => {
    const { logger, parsed } = capture();
    const child = logger.child({ localMemberId: "abc", component: "raft" });
    child.info("one");
    child.child({ peer: "p1" }).warn("two", { component: "transport" });
    logger.info("three");
    expect(parsed()).toEqual([
      {
        level: "info",
        ts: "2026-11-22T00:36:35.006Z",
        msg: "one",
        "local-member-id": "abc",
        component: "raft",
      },
      {
        level: "warn",
        ts: "2026-11-22T00:36:35.006Z",
        msg: "two",
        "local-member-id": "abc",
        component: "transport",
        peer: "p1",
      },
      { level: "info", ts: "2026-11-22T00:36:35.006Z", msg: "three" },
    ]);
  });

  test("values JSON cannot hold are rendered, not thrown", () => {
    const { logger, parsed } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    logger.error("m", {
      error: new Error("disk full"),
      small: 42n,
      big: 0x8e9e05c52164694dn,
      when: new Date(0),
      set: new Set(["a"]),
      map: new Map([["k", 1]]),
      missing: undefined,
      cyclic,
      bytes: new Uint8Array(3),
    });
    expect(parsed()[0]).toMatchObject({
      error: "disk full",
      small: 42,
      big: "10276657743932975437",
      when: "1970-01-01T00:00:00.000Z",
      set: ["a"],
      map: { k: 1 },
      missing: null,
      cyclic: { a: 1, self: "[circular]" },
      bytes: "<3 bytes>",
    });
  });

  test("fields cannot overwrite level, ts or msg", () => {
    const { logger, parsed } = capture();
    logger.info("real", { msg: "fake", level: "fatal" });
    expect(parsed()[0]).toMatchObject({
      level: "info",
      msg: "real",
      "field-msg": "fake",
      "field-level": "fatal",
    });
  });

  test("a failing sink never throws into the caller", () => {
    const logger = createJsonLogger({
      sink: () => {
        throw new Error("EPIPE");
      },
    });
    expect(() => logger.error("m")).not.toThrow();
  });

  test("the silent logger accepts everything and writes nothing", () => {
    const logger: Logger = silentLogger;
    expect(() => {
      logger.info("x", { a: 1 });
      logger.child({ b: 2 }).error("y");
    }).not.toThrow();
    expect(logger.child({})).toBe(silentLogger);
  });

  test("kebabCase", () => {
    expect(kebabCase("localMemberId")).toBe("local-member-id");
    expect(kebabCase("raft_term")).toBe("raft-term");
    expect(kebabCase("X-Etcd-Index")).toBe("x-etcd-index");
    expect(kebabCase("took")).toBe("took");
  });
});
