/**
 * Differential tests: the same bad command line or environment given to
 * etcd 3.4.23 and to `parseConfig` must fail the same way (same exit status,
 * and etcd's output contains Cairn's one-line message, except where Cairn
 * adds the flag's name on purpose). And every etcd flag Cairn shows in its
 * help is shown exactly as `etcd --help` shows it.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import {
  freePorts,
  programOrSkip,
  startProcess,
  stopAll,
  type TempDir,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkBootstrap } from "./bootstrap.js";
import { parseConfigFile } from "./config-file.js";
import { ConfigError } from "./errors.js";
import { CAIRN_SECTION, FLAGS } from "./flags.js";
import { helpText } from "./help.js";
import { parseConfig } from "./parse.js";

const etcd = programOrSkip("etcd", "flag and environment errors compared with etcd 3.4.23");

interface Case {
  what: string;
  /** `{C}` and `{P}` become free loopback ports (client, peer). */
  args: string[];
  env?: Record<string, string>;
  /** What etcd prints instead, where Cairn words it differently on purpose. */
  etcdText?: string;
  /** etcd's exit status, where it differs from Cairn's on purpose. */
  etcdExit?: number;
}

/** A valid single member on the test's ports. */
const MEMBER = [
  "--listen-client-urls=http://127.0.0.1:{C}",
  "--advertise-client-urls=http://127.0.0.1:{C}",
  "--listen-peer-urls=http://127.0.0.1:{P}",
  "--initial-advertise-peer-urls=http://127.0.0.1:{P}",
  "--initial-cluster=default=http://127.0.0.1:{P}",
];

const CASES: Case[] = [
  { what: "unknown flag", args: ["--foo"] },
  { what: "flag without its value", args: ["--name"] },
  { what: "bad flag syntax", args: ["---name=x"] },
  { what: "positional argument", args: [...MEMBER, "foo"] },
  { what: "bool followed by a word", args: [...MEMBER, "--enable-v2", "false"] },
  { what: "uint text", args: ["--snapshot-count=abc"] },
  { what: "uint negative", args: ["--heartbeat-interval=-5"] },
  { what: "uint too big", args: ["--snapshot-count=99999999999999999999999"] },
  { what: "int text", args: ["--quota-backend-bytes=abc"] },
  { what: "bool text", args: ["--enable-v2=maybe"] },
  { what: "cluster state", args: ["--initial-cluster-state=foo"] },
  { what: "discovery fallback", args: ["--discovery-fallback=foo"] },
  { what: "URL scheme", args: ["--listen-peer-urls=foo"] },
  { what: "URL without port", args: ["--listen-peer-urls=http://127.0.0.1"] },
  { what: "URL with path", args: ["--listen-peer-urls=http://127.0.0.1:{P}/x"] },
  { what: "URL with a bad port", args: ["--listen-peer-urls=http://127.0.0.1:abc"] },
  { what: "CORS origin without a port", args: ["--cors=http://a.example"] },
  { what: "CORS star in a list", args: ["--cors=*,http://a.example:80"] },
  { what: "CORS empty", args: ["--cors="] },
  {
    what: "logger",
    args: [...MEMBER, "--logger=foo"],
    etcdText: 'unknown logger option "foo"',
  },
  {
    what: "log level",
    args: [...MEMBER, "--logger=zap", "--log-level=verbose"],
    // etcd 3.4.23 panics (exit 2) with a stack trace.
    etcdText: 'panic: unknown level "verbose"',
    etcdExit: 2,
  },
  {
    what: "zap with default among several outputs",
    args: [...MEMBER, "--logger=zap", "--log-outputs=default,stderr"],
    etcdText: 'multi logoutput for "default" is not supported yet',
  },
  {
    what: "capnslog with several outputs",
    args: [...MEMBER, "--logger=capnslog", "--log-outputs=default,stderr"],
  },
  {
    what: "binding to a host name",
    args: [...MEMBER, "--listen-peer-urls=http://example.com:{P}"],
    etcdText: "expected IP in URL for binding (http://example.com:{P})",
  },
  { what: "advertising no host", args: [...MEMBER, "--initial-advertise-peer-urls=http://:{P}"] },
  {
    what: "advertising no host among client URLs",
    args: [...MEMBER, "--advertise-client-urls=http://:{C},http://127.0.0.1:{C}"],
  },
  { what: "initial cluster and discovery", args: [...MEMBER, "--discovery=http://127.0.0.1:1/x"] },
  {
    what: "discovery and DNS SRV",
    args: [
      ...MEMBER.filter((a) => !a.startsWith("--initial-cluster")),
      "--discovery=http://127.0.0.1:1/x",
      "--discovery-srv=example.com",
    ],
  },
  {
    what: "initial cluster from the environment and discovery",
    args: [
      ...MEMBER.filter((a) => !a.startsWith("--initial-cluster")),
      "--discovery=http://127.0.0.1:1/x",
    ],
    env: { ETCD_INITIAL_CLUSTER: "default=http://127.0.0.1:{P}" },
  },
  { what: "heartbeat 0", args: [...MEMBER, "--heartbeat-interval=0"] },
  { what: "election 0", args: [...MEMBER, "--election-timeout=0"] },
  { what: "election under 5 heartbeats", args: [...MEMBER, "--election-timeout=400"] },
  {
    what: "election over 50 s",
    args: [...MEMBER, "--election-timeout=60000", "--heartbeat-interval=1000"],
  },
  {
    what: "client URLs not advertised",
    args: MEMBER.filter((a) => !a.startsWith("--advertise-client-urls")),
  },
  {
    what: "client URLs from the environment not advertised",
    args: MEMBER.filter((a) => !a.includes("-client-urls")),
    env: { ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:{C}" },
  },
  {
    what: "flag and variable both set",
    args: [...MEMBER, "--name=default"],
    env: { ETCD_NAME: "x" },
  },
  {
    what: "flag and empty variable both set",
    args: [...MEMBER, "--name=default"],
    env: { ETCD_NAME: "" },
  },
  { what: "bad number in a variable", args: MEMBER, env: { ETCD_SNAPSHOT_COUNT: "abc" } },
  { what: "bad boolean in a variable", args: MEMBER, env: { ETCD_ENABLE_V2: "maybe" } },
  {
    what: "bad URL in a variable",
    args: MEMBER,
    env: { ETCD_CORS: "x", ETCD_LISTEN_PEER_URLS: "foo" },
  },
  // Bootstrap membership, checked by etcd when the data directory is empty.
  {
    what: "name not in the initial cluster",
    args: [...MEMBER, "--initial-cluster=other=http://127.0.0.1:{P}"],
  },
  { what: "empty initial cluster", args: [...MEMBER, "--initial-cluster="] },
  {
    what: "a DNS SRV name alone drops the default initial cluster",
    args: [...MEMBER.filter((a) => !a.startsWith("--initial-cluster")), "--discovery-srv-name=foo"],
  },
  {
    what: "advertised peer URL differs from the initial cluster",
    args: [...MEMBER, "--initial-cluster=default=http://127.0.0.1:1"],
  },
  {
    what: "more URLs in the initial cluster than advertised",
    args: [...MEMBER, "--initial-cluster=default=http://127.0.0.1:{P},default=http://127.0.0.1:1"],
  },
  {
    what: "a peer URL twice in the initial cluster",
    args: [...MEMBER, "--initial-cluster=default=http://127.0.0.1:{P},b=http://127.0.0.1:{P}"],
  },
  {
    what: "bad URL in the initial cluster",
    args: [...MEMBER, "--initial-cluster=default=notaurl"],
  },
  { what: "initial cluster item without a URL", args: [...MEMBER, "--initial-cluster=x"] },
];

/** Replaces the port placeholders. */
function fill(text: string, ports: { C: number; P: number }): string {
  return text.replaceAll("{C}", String(ports.C)).replaceAll("{P}", String(ports.P));
}

/** What Cairn says for this input: the ConfigError of parsing or of the bootstrap check. */
function cairnError(args: string[], env: Record<string, string>): ConfigError {
  try {
    const result = parseConfig(args, env);
    if (result.kind === "run") checkBootstrap(result.config);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`Cairn accepted ${args.join(" ")}`);
}

describe.skipIf(etcd === undefined)("bad input: Cairn fails as etcd 3.4.23 fails", () => {
  let work: TempDir;
  beforeAll(() => {
    work = tempDir("cairn-config-etcd-");
  });
  afterAll(async () => {
    await stopAll();
    work?.remove();
  });

  test.each(CASES)("$what", async (c) => {
    const [C, P] = await freePorts(2);
    const ports = { C: C!, P: P! };
    const args = c.args.map((a) => fill(a, ports));
    const env = Object.fromEntries(
      Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v, ports)]),
    );
    const ours = cairnError(args, env);
    expect(ours.message).not.toContain("\n");

    // etcd runs in its own empty directory (its default data dir lands there)
    // with only PATH from our environment, so no ETCD_* variable leaks in.
    const cwd = `${work.path}/${ports.P}`;
    spawnSync("mkdir", ["-p", cwd]);
    const proc = startProcess(etcd!.path, {
      args,
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      name: `etcd (${c.what})`,
    });
    await waitFor(async () => proc.hasExited(), {
      timeoutMs: 10_000,
      what: `etcd to refuse: ${c.what}`,
    }).catch(async (error: unknown) => {
      await proc.stop("SIGKILL", 1_000);
      throw error;
    });
    const output = proc.stdout() + proc.stderr();
    expect(await proc.exited, output).toBe(c.etcdExit ?? ours.exitCode);
    expect(output).toContain(fill(c.etcdText ?? ours.message, ports));
    if (c.etcdText !== undefined) {
      // Cairn's line still carries etcd's words, with the flag named in front.
      expect(ours.message).toContain(fill(c.etcdText.replace(/^panic: /, ""), ports));
    }
  });
});

/** Lines appended to a valid member's configuration file; each must be refused. */
const FILE_CASES: { what: string; line: string; etcdText?: string }[] = [
  { what: "string for a number", line: "snapshot-count: abc" },
  { what: "negative number", line: "snapshot-count: -1" },
  { what: "quoted number", line: 'snapshot-count: "5"' },
  { what: "list for a string", line: "name: [a]" },
  { what: "string for a list", line: "log-outputs: stderr" },
  { what: "fraction for an integer", line: "heartbeat-interval: 1.5" },
  { what: "bad URL", line: "listen-peer-urls: foo" },
  { what: "bad cluster state", line: "initial-cluster-state: foo" },
  { what: "election under 5 heartbeats", line: "election-timeout: 400" },
  { what: "bad discovery fallback", line: "discovery-fallback: foo" },
  { what: "bad logger", line: "logger: foo", etcdText: 'unknown logger option "foo"' },
];

describe.skipIf(etcd === undefined)(
  "bad configuration file: Cairn fails as etcd 3.4.23 fails",
  () => {
    let work: TempDir;
    beforeAll(() => {
      work = tempDir("cairn-config-file-etcd-");
    });
    afterAll(async () => {
      await stopAll();
      work?.remove();
    });

    test.each(FILE_CASES)("$what: $line", async (c) => {
      const [C, P] = await freePorts(2);
      const text = [
        `listen-peer-urls: http://127.0.0.1:${P}`,
        `initial-advertise-peer-urls: http://127.0.0.1:${P}`,
        `listen-client-urls: http://127.0.0.1:${C}`,
        `advertise-client-urls: http://127.0.0.1:${C}`,
        `initial-cluster: default=http://127.0.0.1:${P}`,
        c.line,
        "",
      ].join("\n");
      const cwd = `${work.path}/${P}`;
      spawnSync("mkdir", ["-p", cwd]);
      const file = `${cwd}/etcd.yaml`;
      writeFileSync(file, text);
      let ours: ConfigError | undefined;
      try {
        const result = parseConfigFile(text, file);
        checkBootstrap(result.config);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        ours = error;
      }
      expect(ours, "Cairn must refuse the file").toBeDefined();
      const proc = startProcess(etcd!.path, {
        args: ["--config-file", file],
        cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        name: `etcd (${c.what})`,
      });
      await waitFor(async () => proc.hasExited(), {
        timeoutMs: 10_000,
        what: `etcd to refuse: ${c.what}`,
      }).catch(async (error: unknown) => {
        await proc.stop("SIGKILL", 1_000);
        throw error;
      });
      const output = proc.stdout() + proc.stderr();
      expect(await proc.exited, output).toBe(ours!.exitCode);
      expect(output).toContain(c.etcdText ?? ours!.message);
    });
  },
);

/** Go's `time.Duration` text for whole milliseconds, as etcd logs durations. */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/** Valid inputs: etcd's "starting an etcd server" line must show what Cairn parsed. */
const GOOD_CASES: { what: string; args: string[]; env?: Record<string, string>; file?: string }[] =
  [
    {
      what: "explicit member flags",
      args: [...MEMBER, "--name=foo", "--initial-cluster=foo=http://127.0.0.1:{P}"],
    },
    {
      what: "--name derives the data dir and the initial cluster",
      args: MEMBER.filter((a) => !a.startsWith("--initial-cluster")).concat("--name=m7"),
    },
    {
      what: "URL lists come out sorted",
      args: [
        ...MEMBER.filter((a) => !a.includes("client-urls")),
        "--listen-client-urls=http://127.0.0.1:{C},http://127.0.0.1:{P}9",
        "--advertise-client-urls=http://localhost:{C},http://127.0.0.1:{C}",
      ].map((a) => a.replace("{P}9", "{X}")),
    },
    {
      what: "values from the environment, Go number syntax",
      args: [],
      env: {
        ETCD_NAME: "envnode",
        ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:{C}",
        ETCD_ADVERTISE_CLIENT_URLS: "http://127.0.0.1:{C}",
        ETCD_LISTEN_PEER_URLS: "http://127.0.0.1:{P}",
        ETCD_INITIAL_ADVERTISE_PEER_URLS: "http://127.0.0.1:{P}",
        ETCD_SNAPSHOT_COUNT: "0x10",
        ETCD_HEARTBEAT_INTERVAL: "50",
        ETCD_ELECTION_TIMEOUT: "1_500",
        ETCD_CORS: "http://b.example:80,http://a.example:80,http://b.example:80",
        ETCD_INITIAL_CLUSTER_TOKEN: "tok",
        ETCD_MAX_REQUEST_BYTES: "2048",
      },
    },
    {
      what: "a configuration file",
      args: ["--config-file", "{FILE}"],
      file: [
        "name: filenode",
        "listen-client-urls: http://127.0.0.1:{C}",
        "listen-peer-urls: http://127.0.0.1:{P}",
        "initial-advertise-peer-urls: http://127.0.0.1:{P}",
        "initial-cluster-state: new",
        "election-timeout: 2000",
        "",
      ].join("\n"),
    },
  ];

describe.skipIf(etcd === undefined)("good input: etcd 3.4.23 starts with what Cairn parsed", () => {
  let work: TempDir;
  beforeAll(() => {
    work = tempDir("cairn-config-good-");
  });
  afterAll(async () => {
    await stopAll();
    work?.remove();
  });

  test.each(GOOD_CASES)("$what", async (c) => {
    const [C, P, X] = await freePorts(3);
    const cwd = `${work.path}/${P}`;
    spawnSync("mkdir", ["-p", cwd]);
    const file = `${cwd}/etcd.yaml`;
    const fillAll = (t: string) =>
      fill(t, { C: C!, P: P! }).replaceAll("{X}", String(X)).replaceAll("{FILE}", file);
    if (c.file !== undefined) writeFileSync(file, `logger: zap\n${fillAll(c.file)}`);
    const args = [...c.args.map(fillAll), ...(c.file === undefined ? ["--logger=zap"] : [])];
    const env = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fillAll(v)]));
    let result = parseConfig(args, env);
    if (result.kind === "config-file") {
      const { readFileSync } = await import("node:fs");
      result = parseConfigFile(readFileSync(result.path, "utf8"), result.path);
    }
    if (result.kind !== "run") throw new Error(`expected run, got ${result.kind}`);
    const config = result.config;
    checkBootstrap(config);

    const proc = startProcess(etcd!.path, {
      args,
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      name: `etcd (${c.what})`,
    });
    let line: Record<string, unknown> | undefined;
    try {
      await waitFor(
        async () => {
          if (proc.hasExited()) throw new Error(`etcd exited: ${proc.stderr().slice(-1500)}`);
          const found = proc
            .stderr()
            .split("\n")
            .find((l) => l.includes('"msg":"starting an etcd server"'));
          if (found !== undefined) line = JSON.parse(found) as Record<string, unknown>;
          return found !== undefined;
        },
        { timeoutMs: 10_000, what: `etcd to start: ${c.what}` },
      );
    } finally {
      await proc.stop("SIGTERM", 3_000);
    }
    expect(line).toMatchObject({
      name: config.name,
      "data-dir": config.dataDir,
      "snapshot-count": config.snapshotCount,
      "heartbeat-interval": goDuration(config.heartbeatIntervalMs),
      "election-timeout": goDuration(config.electionTimeoutMs),
      "initial-advertise-peer-urls": config.initialAdvertisePeerUrls,
      "listen-peer-urls": config.listenPeerUrls,
      "advertise-client-urls": config.advertiseClientUrls,
      "listen-client-urls": config.listenClientUrls,
      cors: config.cors,
      "initial-cluster": config.initialCluster,
      "initial-cluster-state": config.initialClusterState,
      "initial-cluster-token": config.initialClusterToken,
      "max-request-bytes": config.maxRequestBytes,
      "discovery-url": config.discovery,
      "discovery-proxy": config.discoveryProxy,
    });
  });
});

describe.skipIf(etcd === undefined)("help text", () => {
  test("every etcd flag Cairn lists reads exactly as in `etcd --help`", () => {
    const result = spawnSync(etcd!.path, ["--help"], { encoding: "utf8" });
    const etcdHelp = result.stdout;
    const ours = helpText();
    // Defaults Cairn changes on purpose; see flags.ts.
    const different = new Set(["enable-v2", "logger"]);
    let compared = 0;
    for (const flag of FLAGS) {
      if (flag.section === "" || flag.section === CAIRN_SECTION || different.has(flag.name)) {
        continue;
      }
      // etcd shows some defaults bare (the proxy's milliseconds), as flags.ts records.
      const shown = flag.bareDefault === true ? flag.defaultText : `'${flag.defaultText}'`;
      const block = [`  --${flag.name} ${shown}`, ...flag.help.map((l) => `    ${l}`)].join("\n");
      expect(etcdHelp, flag.name).toContain(`${block}\n`);
      expect(ours, flag.name).toContain(`${block}\n`);
      // Listed under the same section heading as etcd's.
      const etcdSection = etcdHelp
        .slice(0, etcdHelp.indexOf(block))
        .match(/\n(\S[^\n]*:)\n/g)
        ?.pop();
      expect(etcdSection?.trim(), flag.name).toBe(flag.section);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(25);
  });
});
