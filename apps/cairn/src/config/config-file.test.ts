import { describe, expect, test } from "vitest";
import { parseConfigFile } from "./config-file.js";
import { ConfigError } from "./errors.js";
import { parseConfig } from "./parse.js";
import { parseFlatYaml } from "./yaml.js";

function fileFailure(text: string): ConfigError {
  try {
    parseConfigFile(text, "/etc/cairn.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const BASE = [
  "listen-peer-urls: http://127.0.0.1:31380",
  "initial-advertise-peer-urls: http://127.0.0.1:31380",
  "listen-client-urls: http://127.0.0.1:31379",
  "advertise-client-urls: http://127.0.0.1:31379",
  "initial-cluster: default=http://127.0.0.1:31380",
].join("\n");

describe("--config-file", () => {
  test("the flag (or ETCD_CONFIG_FILE) hands over to the file; other flags and variables are ignored", () => {
    expect(
      parseConfig(["--config-file", "/etc/cairn.yaml", "--name=x"], { ETCD_NAME: "y" }),
    ).toEqual({ kind: "config-file", path: "/etc/cairn.yaml" });
    expect(parseConfig(["--name=x"], { ETCD_CONFIG_FILE: "/f.yaml", ETCD_NAME: "y" })).toEqual({
      kind: "config-file",
      path: "/f.yaml",
    });
    // Flag syntax is still checked first, as etcd parses all flags before.
    expect(() => parseConfig(["--config-file=/f", "--bogus"], {})).toThrow(
      "flag provided but not defined: -bogus",
    );
  });

  test("golden: a file as etcd 3.4.23 reads it (observed: initial cluster from the name, advertised default kept)", () => {
    const result = parseConfigFile(
      [
        "# comment",
        "name: 'cf'",
        "snapshot-count: 5",
        "enable-v2: yes",
        "listen-peer-urls: http://127.0.0.1:31380",
        'initial-advertise-peer-urls: "http://127.0.0.1:31380"',
        "listen-client-urls: http://127.0.0.1:31379",
        "log-outputs: [stderr]",
        "logger: zap",
        "bogus-key: 1",
        "client-transport-security:",
        "  cert-file: /x.pem",
      ].join("\n"),
      "/etc/cairn.yaml",
    );
    expect(result.config).toMatchObject({
      name: "cf",
      dataDir: "cf.etcd",
      snapshotCount: 5,
      enableV2: true,
      listenPeerUrls: ["http://127.0.0.1:31380"],
      listenClientUrls: ["http://127.0.0.1:31379"],
      advertiseClientUrls: ["http://localhost:2379"],
      initialCluster: "cf=http://127.0.0.1:31380",
      logOutputs: ["stderr"],
    });
    expect(result.notices).toEqual([
      {
        level: "info",
        msg: "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
        fields: { path: "/etc/cairn.yaml" },
      },
      {
        level: "warn",
        msg: "configuration file key not supported by Cairn; ignored",
        fields: { key: "bogus-key" },
      },
      {
        level: "warn",
        msg: "configuration file key not supported by Cairn; ignored",
        fields: { key: "client-transport-security" },
      },
    ]);
  });

  test("a discovery URL in a file drops the default initial cluster", () => {
    const { config } = parseConfigFile(
      "discovery: http://127.0.0.1:1/v2/keys/d/t\nadvertise-client-urls: http://127.0.0.1:1",
      "f",
    );
    expect(config.initialCluster).toBe("");
  });

  test("a repeated key keeps its last value (as etcd 3.4.23 reads it)", () => {
    expect(parseConfigFile("name: a\nname: b", "f").config.name).toBe("b");
  });

  test("null and empty values leave the defaults", () => {
    const { config } = parseConfigFile(
      "name:\nsnapshot-count: ~\ninitial-cluster-state: ''\nlisten-peer-urls: ''",
      "f",
    );
    expect(config.name).toBe("default");
    expect(config.snapshotCount).toBe(100000);
    expect(config.initialClusterState).toBe("new");
    expect(config.listenPeerUrls).toEqual(["http://localhost:2380"]);
  });

  const cases: [string, string][] = [
    [
      "snapshot-count: abc",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64",
    ],
    [
      "snapshot-count: -1",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field configYAML.snapshot-count of type uint64",
    ],
    [
      'snapshot-count: "5"',
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64",
    ],
    [
      "name: [a]",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field configYAML.name of type string",
    ],
    [
      "log-outputs: stderr",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.log-outputs of type []string",
    ],
    [
      "enable-v2: maybe",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.enable-v2 of type bool",
    ],
    [
      "heartbeat-interval: 1.5",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number 1.5 into Go struct field configYAML.heartbeat-interval of type uint",
    ],
    [
      "listen-peer-urls: foo",
      "unexpected error setting up listen-peer-urls: URL scheme must be http, https, unix, or unixs: foo",
    ],
    ["initial-cluster-state: foo", 'unexpected clusterState "foo"'],
    [
      "election-timeout: 400",
      "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]",
    ],
    [
      "discovery-fallback: foo",
      "unexpected error setting up discovery-fallback flag: invalid value",
    ],
    ["logger: foo", '--logger: unknown logger option "foo"'],
  ];
  for (const [line, message] of cases) {
    test(`bad file: ${line}`, () => {
      const error = fileFailure(`${BASE}\n${line}`);
      expect(error.message).toBe(message);
      expect(error.exitCode).toBe(1);
    });
  }

  test("YAML this reader does not understand is refused with its line", () => {
    expect(fileFailure("a: b: c").message).toBe(
      "error converting YAML to JSON: yaml: line 1: mapping values are not allowed in this context",
    );
    expect(fileFailure("name: &anchor a").message).toContain("line 1");
    expect(fileFailure("  - x").message).toContain("did not find expected key");
  });
});

describe("parseFlatYaml", () => {
  test("scalars resolve as YAML 1.1 does in Go's yaml.v2", () => {
    const map = parseFlatYaml(
      [
        "a: yes",
        "b: Off",
        "c: 0x10",
        "d: 010",
        "e: -7",
        "f: 1.5",
        "g: ~",
        'h: "quoted # not a comment"',
        "i: 'it''s'",
        "j: plain text # a comment",
        "k: [x, 'y', 3]",
        "l:",
        "  - one",
        "  - two",
        "m: http://127.0.0.1:2380",
      ].join("\n"),
    );
    expect(Object.fromEntries(map)).toEqual({
      a: true,
      b: false,
      c: 16n,
      d: 8n,
      e: -7n,
      f: 1.5,
      g: null,
      h: "quoted # not a comment",
      i: "it's",
      j: "plain text",
      k: ["x", "y", 3n],
      l: ["one", "two"],
      m: "http://127.0.0.1:2380",
    });
  });
});
