import { describe, expect, test } from "vitest";
import { checkBootstrap } from "./bootstrap.js";
import { ConfigError } from "./errors.js";
import { type Config, type ParseResult, parseConfig } from "./parse.js";
import { parseResolverAddress } from "./urls.js";

/** Parses and expects a member to start; returns the result. */
function run(argv: string[], env: Record<string, string | undefined> = {}) {
  const result = parseConfig(argv, env);
  if (result.kind !== "run") throw new Error(`expected run, got ${result.kind}`);
  return result;
}

/** Parses and returns the ConfigError it must throw. */
function failure(argv: string[], env: Record<string, string | undefined> = {}): ConfigError {
  try {
    parseConfig(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${argv.join(" ")}`);
}

/** Flags for a valid single member on chosen loopback ports. */
const LOCAL = [
  "--listen-client-urls=http://127.0.0.1:32379",
  "--advertise-client-urls=http://127.0.0.1:32379",
  "--listen-peer-urls=http://127.0.0.1:32380",
  "--initial-advertise-peer-urls=http://127.0.0.1:32380",
  "--initial-cluster=default=http://127.0.0.1:32380",
];

describe("defaults (etcd 3.4.23 with no flags)", () => {
  test("no flags give etcd's single member on localhost", () => {
    const { config, explicit, notices } = run([]);
    expect(config).toEqual({
      name: "default",
      dataDir: "default.etcd",
      walDir: "",
      snapshotCount: 100000,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      listenPeerUrls: ["http://localhost:2380"],
      listenClientUrls: ["http://localhost:2379"],
      initialAdvertisePeerUrls: ["http://localhost:2380"],
      advertiseClientUrls: ["http://localhost:2379"],
      initialCluster: "default=http://localhost:2380",
      initialClusterState: "new",
      initialClusterToken: "etcd-cluster",
      discovery: "",
      discoverySrv: "",
      discoverySrvName: "",
      discoverySrvResolver: "",
      discoveryFallback: "proxy",
      discoveryProxy: "",
      proxy: "off",
      proxyFailureWaitMs: 5000,
      proxyRefreshIntervalMs: 30000,
      proxyDialTimeoutMs: 1000,
      proxyWriteTimeoutMs: 5000,
      proxyReadTimeoutMs: 0,
      strictReconfigCheck: true,
      enableV2: true,
      cors: ["*"],
      maxRequestBytes: 1572864,
      quotaBackendBytes: 0,
      logger: "zap",
      logOutputs: ["default"],
      logLevel: "info",
      forceNewCluster: false,
      v2HistorySize: 1000,
    } satisfies Config);
    expect([...explicit]).toEqual([]);
    expect(notices).toEqual([]);
    expect(checkBootstrap(config)).toEqual(new Map([["default", ["http://localhost:2380"]]]));
  });

  test("--name alone names the data dir and the initial cluster after the member", () => {
    const { config } = run(["--name", "m1"]);
    expect(config.dataDir).toBe("m1.etcd");
    expect(config.initialCluster).toBe("m1=http://localhost:2380");
  });

  test("--name with several advertised peer URLs lists each in the derived initial cluster", () => {
    const { config } = run([
      "--name=foo",
      "--initial-advertise-peer-urls=http://127.0.0.1:31381,http://127.0.0.1:31380",
    ]);
    // Observed from etcd 3.4.23: "foo=http://127.0.0.1:31380,foo=http://127.0.0.1:31381".
    expect(config.initialCluster).toBe("foo=http://127.0.0.1:31380,foo=http://127.0.0.1:31381");
  });

  test("an explicit initial cluster is kept; an explicit empty data dir means <name>.etcd", () => {
    const { config } = run(["--name", "m1", "--data-dir=", "--initial-cluster", "m1=http://h:1"]);
    expect(config.initialCluster).toBe("m1=http://h:1");
    expect(config.dataDir).toBe("m1.etcd");
  });

  test("--snapshot-count 0 becomes the default, with etcd's notice", () => {
    const { config, notices } = run(["--snapshot-count=0"]);
    expect(config.snapshotCount).toBe(100000);
    expect(notices).toEqual([
      {
        level: "info",
        msg: "updating snapshot-count to default",
        fields: { "given-snapshot-count": 0, "updated-snapshot-count": 100000 },
      },
    ]);
  });
});

describe("Go flag syntax", () => {
  test("-flag, --flag, =value and a separate value are all the same", () => {
    for (const argv of [["-name", "a"], ["--name", "a"], ["-name=a"], ["--name=a"]]) {
      expect(run(argv).config.name, argv.join(" ")).toBe("a");
    }
  });

  test("a value may start with a dash and may contain '='", () => {
    expect(run(["--name", "-x"]).config.name).toBe("-x");
    expect(run(["--initial-cluster-token=a=b"]).config.initialClusterToken).toBe("a=b");
  });

  test("booleans: bare means true, =value parses Go's forms, never the next argument", () => {
    expect(run(["--force-new-cluster"]).config.forceNewCluster).toBe(true);
    for (const [text, value] of [
      ["1", true],
      ["t", true],
      ["T", true],
      ["TRUE", true],
      ["True", true],
      ["0", false],
      ["f", false],
      ["F", false],
      ["FALSE", false],
      ["False", false],
    ] as const) {
      expect(run([`--strict-reconfig-check=${text}`]).config.strictReconfigCheck).toBe(value);
    }
    const error = failure(["--enable-v2", "false"]);
    expect(error.message).toBe("'false' is not a valid flag");
    expect(error.exitCode).toBe(1);
  });

  test("the last occurrence of a flag wins", () => {
    expect(run(["--name=a", "--name=b"]).config.name).toBe("b");
  });

  test("numbers use Go's base prefixes and digit separators", () => {
    const { config } = run(["--heartbeat-interval=0x10", "--election-timeout=1_000"]);
    expect(config.heartbeatIntervalMs).toBe(16);
    expect(config.electionTimeoutMs).toBe(1000);
    expect(run(["--snapshot-count=0o17"]).config.snapshotCount).toBe(15);
    expect(run(["--snapshot-count=017"]).config.snapshotCount).toBe(15);
    expect(run(["--snapshot-count=0b101"]).config.snapshotCount).toBe(5);
    expect(run(["--quota-backend-bytes=-1"]).config.quotaBackendBytes).toBe(-1);
    expect(run(["--quota-backend-bytes=+8"]).config.quotaBackendBytes).toBe(8);
  });

  test("'--' ends the flags; anything after it is refused like etcd", () => {
    expect(failure(["--", "--name", "x"]).message).toBe("'--name' is not a valid flag");
    expect(failure(["foo"]).message).toBe("'foo' is not a valid flag");
    expect(failure(["--name=a", "-"]).message).toBe("'-' is not a valid flag");
  });

  test("help and version", () => {
    expect(parseConfig(["--help"], {})).toEqual({ kind: "help" } satisfies ParseResult);
    expect(parseConfig(["-h"], {})).toEqual({ kind: "help" });
    expect(parseConfig(["-help=whatever"], {})).toEqual({ kind: "help" });
    // Go stops at the help flag, so what follows is not even read.
    expect(parseConfig(["--help", "--bogus"], {})).toEqual({ kind: "help" });
    expect(parseConfig(["--version"], {})).toEqual({ kind: "version" });
    // Version is honoured before the environment is read, conflicts and all.
    expect(parseConfig(["--version", "--name=a"], { ETCD_NAME: "b" })).toEqual({
      kind: "version",
    });
    expect(run(["--version=false"]).config.name).toBe("default");
  });
});

describe("environment variables (spec bootstrap.md §5.4)", () => {
  test("ETCD_<FLAG> sets a flag and is reported as used", () => {
    const { config, explicit, notices } = run([], {
      ETCD_NAME: "envnode",
      ETCD_ENABLE_V2: "false",
      ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:32379",
      ETCD_ADVERTISE_CLIENT_URLS: "http://127.0.0.1:32379",
      PATH: "/usr/bin",
    });
    expect(config.name).toBe("envnode");
    expect(config.enableV2).toBe(false);
    expect(config.listenClientUrls).toEqual(["http://127.0.0.1:32379"]);
    expect([...explicit].sort()).toEqual([
      "advertise-client-urls",
      "enable-v2",
      "listen-client-urls",
      "name",
    ]);
    // In flag-name order, as etcd visits its flags.
    expect(notices.map((n) => n.fields["variable-name"])).toEqual([
      "ETCD_ADVERTISE_CLIENT_URLS",
      "ETCD_ENABLE_V2",
      "ETCD_LISTEN_CLIENT_URLS",
      "ETCD_NAME",
    ]);
    expect(notices[3]).toEqual({
      level: "info",
      msg: "recognized and used environment variable",
      fields: { "variable-name": "ETCD_NAME", "variable-value": "envnode" },
    });
  });

  test("an environment-set --listen-client-urls counts as explicit: advertise is required", () => {
    expect(failure([], { ETCD_LISTEN_CLIENT_URLS: "http://127.0.0.1:32379" }).message).toBe(
      "--advertise-client-urls is required when --listen-client-urls is set explicitly",
    );
  });

  test("a flag and its variable both set is fatal, even with the same or an empty value", () => {
    const message =
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)';
    for (const value of ["x", "default", ""]) {
      const error = failure(["--name", "default"], { ETCD_NAME: value });
      expect(error.message).toBe(message);
      expect(error.code).toBe("ENV_CONFLICT");
      expect(error.exitCode).toBe(1);
      expect(error.flag).toBe("name");
    }
  });

  test("the first conflicting variable in environment order is the one reported", () => {
    const error = failure(["--name=a", "--data-dir=b"], { ETCD_NAME: "x", ETCD_DATA_DIR: "y" });
    expect(error.message).toContain('"ETCD_NAME"');
  });

  test("empty variables are ignored", () => {
    const { config, notices } = run([], { ETCD_NAME: "" });
    expect(config.name).toBe("default");
    // etcd then warns about it as unrecognized, because it was not used.
    expect(notices).toEqual([
      {
        level: "warn",
        msg: "unrecognized environment variable",
        fields: { "environment-variable": "ETCD_NAME=" },
      },
    ]);
  });

  test("unknown ETCD_* variables draw a warning and nothing else; other variables are ignored", () => {
    const { notices } = run([], { ETCD_BOGUS_THING: "1", ETCDCTL_API: "2", HOME: "/root" });
    expect(notices).toEqual([
      {
        level: "warn",
        msg: "unrecognized environment variable",
        fields: { "environment-variable": "ETCD_BOGUS_THING=1" },
      },
    ]);
  });

  test("a bad variable value names the variable; a conflict is reported before it", () => {
    expect(failure([], { ETCD_SNAPSHOT_COUNT: "abc" }).message).toBe(
      'invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error',
    );
    expect(failure([], { ETCD_ENABLE_V2: "maybe" }).message).toBe(
      'invalid value "maybe" for ETCD_ENABLE_V2: parse error',
    );
    expect(failure([], { ETCD_LISTEN_PEER_URLS: "foo" }).message).toBe(
      'invalid value "foo" for ETCD_LISTEN_PEER_URLS: URL scheme must be http, https, unix, or unixs: foo',
    );
    expect(failure(["--name=a"], { ETCD_SNAPSHOT_COUNT: "abc", ETCD_NAME: "b" }).code).toBe(
      "ENV_CONFLICT",
    );
    expect(failure([], { ETCD_SNAPSHOT_COUNT: "abc" }).exitCode).toBe(1);
  });

  test("Cairn's own flag has its variable too", () => {
    expect(run([], { ETCD_V2_HISTORY_SIZE: "5000" }).config.v2HistorySize).toBe(5000);
  });

  test("the SRV resolver address: flag or ETCD_DISCOVERY_SRV_RESOLVER, IPv4 or IPv6, port 53 by default", () => {
    const env = { ETCD_DISCOVERY_SRV_RESOLVER: "127.0.0.1:5353" };
    expect(run([], env).config.discoverySrvResolver).toBe("127.0.0.1:5353");
    for (const [text, address] of [
      ["127.0.0.1:5353", { host: "127.0.0.1", port: 5353 }],
      ["10.0.0.2", { host: "10.0.0.2", port: 53 }],
      ["::1", { host: "::1", port: 53 }],
      ["[fd00::2]:5300", { host: "fd00::2", port: 5300 }],
    ] as const) {
      expect(run([`--discovery-srv-resolver=${text}`]).config.discoverySrvResolver).toBe(text);
      expect(parseResolverAddress(text)).toEqual(address);
    }
  });

  test("a discovery variable drops the default initial cluster, like the flag", () => {
    const { config } = run([], { ETCD_DISCOVERY: "http://127.0.0.1:1/v2/keys/d/t" });
    expect(config.initialCluster).toBe("");
    expect(config.discovery).toBe("http://127.0.0.1:1/v2/keys/d/t");
  });
});

describe("URL lists", () => {
  test("sorted as etcd sorts them; scheme lower-cased; written form otherwise kept", () => {
    const { config } = run([
      "--listen-client-urls=http://127.0.0.1:2,HTTP://127.0.0.1:1",
      "--advertise-client-urls=http://b.example:80,http://a.example:80",
    ]);
    expect(config.listenClientUrls).toEqual(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    expect(config.advertiseClientUrls).toEqual(["http://a.example:80", "http://b.example:80"]);
  });

  test("an empty value keeps the default (etcd's allowed exception) but counts as set", () => {
    const { config, explicit } = run(["--listen-peer-urls="]);
    expect(config.listenPeerUrls).toEqual(["http://localhost:2380"]);
    expect(explicit.has("listen-peer-urls")).toBe(true);
  });

  test("IPv6 literals and unix sockets bind; names other than localhost do not", () => {
    expect(run(["--listen-peer-urls=http://[::1]:2380"]).config.listenPeerUrls).toEqual([
      "http://[::1]:2380",
    ]);
    expect(run(["--listen-peer-urls=unix://sock:0"]).config.listenPeerUrls).toEqual([
      "unix://sock:0",
    ]);
    expect(failure(["--listen-peer-urls=http://example.com:2380"]).message).toBe(
      "--listen-peer-urls: expected IP in URL for binding (http://example.com:2380)",
    );
  });
});

describe("--cors (etcd 3.4: '*' or URLs with ports)", () => {
  test("star, or URLs sorted and de-duplicated", () => {
    expect(run(["--cors=*"]).config.cors).toEqual(["*"]);
    expect(
      run(["--cors=http://b.example:80,https://a.example:443,http://b.example:80"]).config.cors,
    ).toEqual(["http://b.example:80", "https://a.example:443"]);
  });

  test("an origin without its port, a star in a list, or nothing is refused", () => {
    expect(failure(["--cors=http://a.example"]).message).toBe(
      'invalid value "http://a.example" for flag -cors: URL address does not have the form "host:port": http://a.example',
    );
    expect(failure(["--cors=*,http://a.example:80"]).message).toBe(
      'invalid value "*,http://a.example:80" for flag -cors: URL scheme must be http, https, unix, or unixs: *',
    );
    expect(failure(["--cors="]).message).toBe(
      'invalid value "" for flag -cors: URL scheme must be http, https, unix, or unixs: ',
    );
  });
});

describe("one line per bad input, naming the flag", () => {
  const cases: [string, string[], string, 1 | 2][] = [
    ["unknown flag", ["--foo"], "flag provided but not defined: -foo", 2],
    ["missing value", ["--name"], "flag needs an argument: -name", 2],
    ["bad syntax", ["---name=x"], "bad flag syntax: ---name=x", 2],
    ["bad syntax '-='", ["-=x"], "bad flag syntax: -=x", 2],
    [
      "uint text",
      ["--snapshot-count=abc"],
      'invalid value "abc" for flag -snapshot-count: parse error',
      2,
    ],
    [
      "uint sign",
      ["--heartbeat-interval=-5"],
      'invalid value "-5" for flag -heartbeat-interval: parse error',
      2,
    ],
    [
      "uint plus",
      ["--heartbeat-interval=+100"],
      'invalid value "+100" for flag -heartbeat-interval: parse error',
      2,
    ],
    [
      "uint empty",
      ["--heartbeat-interval="],
      'invalid value "" for flag -heartbeat-interval: parse error',
      2,
    ],
    [
      "uint range",
      ["--snapshot-count=99999999999999999999999"],
      'invalid value "99999999999999999999999" for flag -snapshot-count: value out of range',
      2,
    ],
    [
      "int text",
      ["--quota-backend-bytes=abc"],
      'invalid value "abc" for flag -quota-backend-bytes: parse error',
      2,
    ],
    [
      "max-request-bytes sign",
      ["--max-request-bytes=-1"],
      'invalid value "-1" for flag -max-request-bytes: parse error',
      2,
    ],
    ["bool", ["--enable-v2=maybe"], 'invalid boolean value "maybe" for -enable-v2: parse error', 2],
    [
      "state",
      ["--initial-cluster-state=foo"],
      'invalid value "foo" for flag -initial-cluster-state: invalid value',
      2,
    ],
    [
      "state case",
      ["--initial-cluster-state=EXISTING"],
      'invalid value "EXISTING" for flag -initial-cluster-state: invalid value',
      2,
    ],
    [
      "fallback",
      ["--discovery-fallback=foo"],
      'invalid value "foo" for flag -discovery-fallback: invalid value',
      2,
    ],
    ["proxy mode", ["--proxy=foo"], 'invalid value "foo" for flag -proxy: invalid value', 2],
    [
      "proxy interval",
      ["--proxy-refresh-interval=-1"],
      'invalid value "-1" for flag -proxy-refresh-interval: parse error',
      2,
    ],
    [
      "url scheme",
      ["--listen-peer-urls=foo"],
      'invalid value "foo" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: foo',
      2,
    ],
    [
      "url scheme in a list",
      ["--listen-client-urls=http://127.0.0.1:31381,ftp://x:1"],
      'invalid value "http://127.0.0.1:31381,ftp://x:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://x:1',
      2,
    ],
    [
      "url empty element",
      ["--listen-peer-urls=http://127.0.0.1:31380,,http://127.0.0.1:31381"],
      'invalid value "http://127.0.0.1:31380,,http://127.0.0.1:31381" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: ',
      2,
    ],
    [
      "url port",
      ["--listen-peer-urls=http://127.0.0.1"],
      'invalid value "http://127.0.0.1" for flag -listen-peer-urls: URL address does not have the form "host:port": http://127.0.0.1',
      2,
    ],
    [
      "url path",
      ["--advertise-client-urls=http://127.0.0.1:31380/"],
      'invalid value "http://127.0.0.1:31380/" for flag -advertise-client-urls: URL must not contain a path: http://127.0.0.1:31380/',
      2,
    ],
    [
      "url bad port",
      ["--listen-peer-urls=http://127.0.0.1:abc"],
      'invalid value "http://127.0.0.1:abc" for flag -listen-peer-urls: parse "http://127.0.0.1:abc": invalid port ":abc" after host',
      2,
    ],
    [
      "unix without port",
      ["--listen-peer-urls=unix://foo"],
      'invalid value "unix://foo" for flag -listen-peer-urls: URL address does not have the form "host:port": unix://foo',
      2,
    ],
    ["logger", ["--logger=foo"], '--logger: unknown logger option "foo"', 1],
    ["log level", ["--log-level=verbose"], '--log-level: unknown level "verbose"', 1],
    [
      "zap outputs",
      ["--log-outputs=default,stderr"],
      '--log-outputs: multi logoutput for "default" is not supported yet',
      1,
    ],
    [
      "capnslog outputs",
      ["--logger=capnslog", "--log-outputs=default,stderr"],
      `--logger=capnslog supports only 1 value in '--log-outputs', got ["default" "stderr"]`,
      1,
    ],
    [
      "bind to a name",
      ["--listen-client-urls=http://example.com:1", "--advertise-client-urls=http://example.com:1"],
      "--listen-client-urls: expected IP in URL for binding (http://example.com:1)",
      1,
    ],
    [
      "bind to nothing",
      ["--listen-peer-urls=http://:31380"],
      "--listen-peer-urls: expected IP in URL for binding (http://:31380)",
      1,
    ],
    [
      "advertise empty host",
      ["--initial-advertise-peer-urls=http://:31380"],
      '--initial-advertise-peer-urls "http://:31380" must be "host:port" (unexpected empty host (http://:31380))',
      1,
    ],
    [
      "advertise empty host in a list",
      ["--advertise-client-urls=http://:31379,http://127.0.0.1:31379"],
      '--advertise-client-urls "http://127.0.0.1:31379,http://:31379" must be "host:port" (unexpected empty host (http://:31379))',
      1,
    ],
    [
      "two bootstrap methods",
      ["--initial-cluster=default=http://localhost:2380", "--discovery=http://127.0.0.1:1/x"],
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
      1,
    ],
    [
      "discovery and srv",
      ["--discovery=http://127.0.0.1:1/x", "--discovery-srv=example.com"],
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
      1,
    ],
    ["heartbeat 0", ["--heartbeat-interval=0"], "--heartbeat-interval must be >0 (set to 0ms)", 1],
    ["election 0", ["--election-timeout=0"], "--election-timeout must be >0 (set to 0ms)", 1],
    [
      "election < 5 heartbeats",
      ["--election-timeout=400"],
      "--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]",
      1,
    ],
    [
      "election too long",
      ["--election-timeout=60000", "--heartbeat-interval=1000"],
      "--election-timeout[60000ms] is too long, and should be set less than 50000ms",
      1,
    ],
    [
      "advertise required",
      ["--listen-client-urls=http://127.0.0.1:32379"],
      "--advertise-client-urls is required when --listen-client-urls is set explicitly",
      1,
    ],
    ["history 0", ["--v2-history-size=0"], "--v2-history-size must be >0 (set to 0)", 1],
    ...[
      "dns.example",
      "127.0.0.1:",
      "127.0.0.1:0",
      "127.0.0.1:70000",
      "127.0.0.1:dns",
      "[::1]",
    ].map((bad): [string, string[], string, 1] => [
      `resolver ${bad}`,
      [`--discovery-srv-resolver=${bad}`],
      `--discovery-srv-resolver: expected an IP address with an optional port (e.g. 127.0.0.1:5353), got ${JSON.stringify(bad)}`,
      1,
    ]),
  ];

  for (const [what, argv, message, exitCode] of cases) {
    test(`${what}: ${argv.join(" ")}`, () => {
      const error = failure(argv);
      expect(error.message).toBe(message);
      expect(error.message).not.toContain("\n");
      expect(error.exitCode).toBe(exitCode);
      expect(error.showUsage).toBe(exitCode === 2);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.name).toBe("ConfigError");
    });
  }

  test("errors carry the flag they are about", () => {
    expect(failure(["--election-timeout=400"]).flag).toBe("election-timeout");
    expect(failure(["--snapshot-count=x"]).flag).toBe("snapshot-count");
    expect(failure(["--logger=x"]).flag).toBe("logger");
    expect(failure(["--listen-client-urls=http://127.0.0.1:1"]).flag).toBe("advertise-client-urls");
  });

  test("the first bad flag on the command line is the one reported", () => {
    expect(failure(["--snapshot-count=abc", "--foo"]).message).toContain("-snapshot-count");
    expect(failure(["--foo", "--snapshot-count=abc"]).message).toContain("-foo");
  });

  test("with several cross-flag problems, etcd's order decides (logging, bind, bootstrap, timing)", () => {
    expect(
      failure(["--logger=x", "--election-timeout=1", "--discovery=http://a:1/x", ...LOCAL]).message,
    ).toContain("--logger");
    expect(
      failure(["--election-timeout=1", "--discovery=http://a:1/x", ...LOCAL]).message,
    ).toContain("multiple discovery");
  });

  test("a discovery URL with the proxy fallback may leave the client URLs unadvertised", () => {
    const { config } = run([
      "--discovery=http://127.0.0.1:1/v2/keys/d/t",
      "--listen-client-urls=http://127.0.0.1:32379",
    ]);
    // etcd keeps the default advertised URL when it may become a proxy.
    expect(config.advertiseClientUrls).toEqual(["http://localhost:2379"]);
    expect(
      failure([
        "--discovery=http://127.0.0.1:1/v2/keys/d/t",
        "--discovery-fallback=exit",
        "--listen-client-urls=http://127.0.0.1:32379",
      ]).message,
    ).toBe("--advertise-client-urls is required when --listen-client-urls is set explicitly");
    // --proxy on|readonly may be a proxy too (etcd's mayBeProxy).
    const proxy = run([
      "--proxy=readonly",
      "--initial-cluster=m1=http://127.0.0.1:32380",
      "--listen-client-urls=http://127.0.0.1:32379",
    ]).config;
    expect(proxy.proxy).toBe("readonly");
    expect(proxy.advertiseClientUrls).toEqual(["http://localhost:2379"]);
  });
});

describe("bootstrap membership (checked only for an empty data dir)", () => {
  const bootstrapFailure = (argv: string[]) => {
    const { config } = run(argv);
    try {
      checkBootstrap(config);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error("expected a ConfigError");
  };

  test("a valid 3-member static cluster", () => {
    const { config } = run([
      "--name=m2",
      "--initial-advertise-peer-urls=http://10.0.0.2:2380",
      "--listen-peer-urls=http://10.0.0.2:2380",
      "--initial-cluster=m1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380,m3=http://10.0.0.3:2380",
      "--initial-cluster-token=tok",
    ]);
    expect(checkBootstrap(config)).toEqual(
      new Map([
        ["m1", ["http://10.0.0.1:2380"]],
        ["m2", ["http://10.0.0.2:2380"]],
        ["m3", ["http://10.0.0.3:2380"]],
      ]),
    );
  });

  test("the name must be in the initial cluster", () => {
    const error = bootstrapFailure([...LOCAL, "--initial-cluster=other=http://127.0.0.1:32380"]);
    expect(error.message).toBe(
      'couldn\'t find local name "default" in the initial cluster configuration',
    );
    expect(error.code).toBe("INVALID_BOOTSTRAP");
    expect(error.exitCode).toBe(1);
    expect(bootstrapFailure([...LOCAL, "--initial-cluster="]).message).toBe(
      'couldn\'t find local name "default" in the initial cluster configuration',
    );
  });

  test("its URLs there must be the advertised peer URLs (new)", () => {
    expect(
      bootstrapFailure([...LOCAL, "--initial-cluster=default=http://127.0.0.1:32399"]).message,
    ).toBe(
      '--initial-cluster has default=http://127.0.0.1:32399 but missing from --initial-advertise-peer-urls=http://127.0.0.1:32380 (resolved urls: "http://127.0.0.1:32380" != "http://127.0.0.1:32399")',
    );
    expect(
      bootstrapFailure([
        ...LOCAL,
        "--initial-cluster=default=http://127.0.0.1:32380,default=http://127.0.0.1:32381",
      ]).message,
    ).toBe(
      '--initial-cluster has default=http://127.0.0.1:32381 but missing from --initial-advertise-peer-urls=http://127.0.0.1:32380 (len(["http://127.0.0.1:32380"]) != len(["http://127.0.0.1:32380" "http://127.0.0.1:32381"]))',
    );
    expect(
      bootstrapFailure([
        ...LOCAL,
        "--initial-advertise-peer-urls=http://127.0.0.1:32380,http://127.0.0.1:32381",
      ]).message,
    ).toBe(
      "--initial-advertise-peer-urls has http://127.0.0.1:32381 but missing from --initial-cluster=default=http://127.0.0.1:32380,default=http://127.0.0.1:32381",
    );
  });

  test("existing: the advertised URLs are not compared (the cluster already knows them)", () => {
    const { config } = run([
      ...LOCAL,
      "--initial-cluster-state=existing",
      "--initial-cluster=default=http://127.0.0.1:32399,m1=http://127.0.0.1:32398",
    ]);
    expect([...checkBootstrap(config).keys()]).toEqual(["default", "m1"]);
  });

  test("no peer URL twice", () => {
    expect(
      bootstrapFailure([
        ...LOCAL,
        "--initial-cluster=default=http://127.0.0.1:32380,b=http://127.0.0.1:32380",
      ]).message,
    ).toBe(
      "initial cluster b=http://127.0.0.1:32380,default=http://127.0.0.1:32380 has duplicate url",
    );
  });

  test("bad URLs in the initial cluster", () => {
    expect(bootstrapFailure([...LOCAL, "--initial-cluster=default=notaurl"]).message).toBe(
      "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: notaurl",
    );
    expect(bootstrapFailure([...LOCAL, "--initial-cluster=x"]).message).toBe(
      "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ",
    );
  });

  test("empty items of the initial cluster are skipped", () => {
    const { config } = run([...LOCAL, "--initial-cluster=,default=http://127.0.0.1:32380,"]);
    expect([...checkBootstrap(config).keys()]).toEqual(["default"]);
  });

  test("a discovered cluster is checked with the same rules", () => {
    const { config } = run([
      "--name=m1",
      "--discovery=http://127.0.0.1:1/v2/keys/d/t",
      "--initial-advertise-peer-urls=http://127.0.0.1:32380",
    ]);
    expect(checkBootstrap(config, "m1=http://127.0.0.1:32380,m2=http://127.0.0.1:32381").size).toBe(
      2,
    );
    expect(() => checkBootstrap(config, "m2=http://127.0.0.1:32381")).toThrow(
      'couldn\'t find local name "m1" in the initial cluster configuration',
    );
  });
});
