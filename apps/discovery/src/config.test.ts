import { describe, expect, it } from "vitest";
import { ConfigError, HelpRequested, parseConfig, parseDuration } from "./config.js";

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    expect(parseConfig([], {})).toEqual({
      hostname: "127.0.0.1",
      port: 8087,
      publicUrl: "http://127.0.0.1:8087",
      dataDir: "discovery.data",
      tokenTtlMs: 7 * 24 * 3600 * 1000,
      rateLimit: 20,
      rateLimitBurst: 100,
      gcIntervalMs: 10 * 60 * 1000,
    });
  });

  it("takes flags over DISC_* variables, in both --flag value and --flag=value forms", () => {
    const c = parseConfig(["--addr=0.0.0.0:9000", "--token-ttl", "36h"], {
      DISC_ADDR: "127.0.0.1:1",
      DISC_HOST: "https://discovery.example.com/",
      DISC_DATA_DIR: "/var/lib/discovery",
      DISC_RATE_LIMIT: "0",
      DISC_RATE_LIMIT_BURST: "7",
      DISC_GC_INTERVAL: "1m30s",
    });
    expect(c).toMatchObject({
      hostname: "0.0.0.0",
      port: 9000,
      publicUrl: "https://discovery.example.com",
      dataDir: "/var/lib/discovery",
      tokenTtlMs: 36 * 3600 * 1000,
      rateLimit: 0,
      rateLimitBurst: 7,
      gcIntervalMs: 90_000,
    });
  });

  it("takes --etcd client URLs (comma separated) for an external store", () => {
    expect(
      parseConfig(["--etcd", "http://10.0.0.1:2379/, https://10.0.0.2:2379"], {}).etcd,
    ).toEqual(["http://10.0.0.1:2379", "https://10.0.0.2:2379"]);
    expect(parseConfig([], { DISC_ETCD: "http://e:2379" }).etcd).toEqual(["http://e:2379"]);
    expect(parseConfig([], {}).etcd).toBeUndefined();
  });

  it("brackets an IPv6 listen address in the default public URL", () => {
    expect(parseConfig(["--addr", "[::1]:8087"], {})).toMatchObject({
      hostname: "::1",
      publicUrl: "http://[::1]:8087",
    });
  });

  it.each([
    [["--addr", "8087"], "--addr"],
    [["--addr", "h:70000"], "--addr"],
    [["--host", "discovery.example.com"], "--host"],
    [["--host", "https://x/?a=b"], "--host"],
    [["--token-ttl", "7"], "--token-ttl"],
    [["--rate-limit", "fast"], "--rate-limit"],
    [["--rate-limit-burst", "0"], "--rate-limit-burst"],
    [["--gc-interval", "0s"], "--gc-interval"],
    [["--data-dir", ""], "--data-dir"],
    [["--etcd", "127.0.0.1:2379"], "--etcd"],
    [["--etcd", "http://e:2379/v2/keys"], "--etcd"],
    [["--nope", "1"], "--nope"],
    [["positional"], "arguments"],
  ])("rejects %j naming %s", (argv, flag) => {
    try {
      parseConfig(argv, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).flag).toBe(flag);
    }
  });

  it("asks for help", () => {
    expect(() => parseConfig(["--help"], {})).toThrow(HelpRequested);
  });
});

describe("parseDuration", () => {
  it.each([
    ["168h", 168 * 3_600_000],
    ["7d", 7 * 86_400_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["250ms", 250],
  ])("%s = %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "7", "h", "1x", "-1s", "1h 2m"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
