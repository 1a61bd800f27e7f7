/**
 * `parseConfig(argv, env)`: etcd 3.4's command line and `ETCD_*` environment
 * turned into a checked {@link Config}, with etcd's precedence, defaults and
 * error messages (spec bootstrap.md §2, §5). Pure: no I/O, no clock; the
 * entry prints, logs and exits.
 *
 * The order of the checks is etcd's (etcdmain `config.parse`, then
 * `embed.Config.Validate`), so a command line with several mistakes reports
 * the same one etcd would report first.
 */
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { FLAGS, FLAGS_BY_NAME, type FlagSpec, flagToEnv } from "./flags.js";
import { checkUrl, isBindableHost, parseResolverAddress } from "./urls.js";
import { type FlagValue, parseFlagValue } from "./values.js";

/** etcd's default member name; `--initial-cluster` follows `--name` only when it differs. */
export const DEFAULT_NAME = "default";
/** etcd's default `--initial-cluster`, derived from the default name and peer URL. */
export const DEFAULT_INITIAL_CLUSTER = "default=http://localhost:2380";
/** etcd's upper bound for `--election-timeout` (ms). */
export const MAX_ELECTION_TIMEOUT_MS = 50_000;
/** etcd's default `--snapshot-count`, also used when 0 is given. */
export const DEFAULT_SNAPSHOT_COUNT = 100_000;

const LOG_LEVELS = ["debug", "info", "warn", "error", "panic", "fatal"] as const;

/** Log levels `--log-level` accepts. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The configuration schema. Field checks come first in etcd's order (logging
 * setup), then the cross-flag rules in `superRefine`, also in etcd's order.
 */
const configSchema = z
  .object({
    name: z.string(),
    dataDir: z.string(),
    walDir: z.string(),
    snapshotCount: z.number().int().nonnegative(),
    heartbeatIntervalMs: z.number().int().nonnegative(),
    electionTimeoutMs: z.number().int().nonnegative(),
    listenPeerUrls: z.array(z.string()),
    listenClientUrls: z.array(z.string()),
    initialAdvertisePeerUrls: z.array(z.string()),
    advertiseClientUrls: z.array(z.string()),
    initialCluster: z.string(),
    // Only a configuration file can get past the flag's own check (etcd: Config.Validate).
    initialClusterState: z.enum(["new", "existing"], {
      error: (issue) => `unexpected clusterState ${goQuote(String(issue.input))}`,
    }),
    initialClusterToken: z.string(),
    discovery: z.string(),
    discoverySrv: z.string(),
    discoverySrvName: z.string(),
    discoverySrvResolver: z.string(),
    discoveryFallback: z.enum(["exit", "proxy"]),
    discoveryProxy: z.string(),
    proxy: z.enum(["off", "readonly", "on"]),
    proxyFailureWaitMs: z.number().int().nonnegative(),
    proxyRefreshIntervalMs: z.number().int().nonnegative(),
    proxyDialTimeoutMs: z.number().int().nonnegative(),
    proxyWriteTimeoutMs: z.number().int().nonnegative(),
    proxyReadTimeoutMs: z.number().int().nonnegative(),
    strictReconfigCheck: z.boolean(),
    enableV2: z.boolean(),
    cors: z.array(z.string()),
    maxRequestBytes: z.number().int().nonnegative(),
    quotaBackendBytes: z.number().int(),
    logger: z.enum(["zap", "capnslog"], {
      error: (issue) => `--logger: unknown logger option ${goQuote(String(issue.input))}`,
    }),
    logOutputs: z.array(z.string()),
    logLevel: z.enum(LOG_LEVELS, {
      error: (issue) => `--log-level: unknown level ${goQuote(String(issue.input))}`,
    }),
    forceNewCluster: z.boolean(),
    v2HistorySize: z.number().int().nonnegative(),
  })
  .superRefine((c, ctx) => {
    const fail = (flag: string, message: string) => {
      ctx.addIssue({ code: "custom", path: [flag], message });
    };
    // embed.Config.setupLogging
    if (c.logger === "capnslog" && c.logOutputs.length > 1) {
      fail(
        "log-outputs",
        `--logger=capnslog supports only 1 value in '--log-outputs', got [${c.logOutputs.map(goQuote).join(" ")}]`,
      );
    }
    if (c.logger === "zap" && c.logOutputs.length > 1 && c.logOutputs.includes("default")) {
      fail("log-outputs", `--log-outputs: multi logoutput for "default" is not supported yet`);
    }
    // checkBindURLs: a listener needs an address, not a name to resolve.
    for (const [flag, urls] of [
      ["listen-peer-urls", c.listenPeerUrls],
      ["listen-client-urls", c.listenClientUrls],
    ] as const) {
      for (const href of urls) {
        if (!isBindableHost(checkUrl(href))) {
          fail(flag, `--${flag}: expected IP in URL for binding (${href})`);
        }
      }
    }
    // checkHostURLs: what is advertised must name a host.
    for (const [flag, urls] of [
      ["initial-advertise-peer-urls", c.initialAdvertisePeerUrls],
      ["advertise-client-urls", c.advertiseClientUrls],
    ] as const) {
      const empty = urls.find((href) => checkUrl(href).host === "");
      if (empty !== undefined) {
        fail(
          flag,
          `--${flag} ${goQuote(urls.join(","))} must be "host:port" (unexpected empty host (${empty}))`,
        );
      }
    }
    // Exactly one bootstrap method (spec bootstrap.md §2).
    const methods = [c.discovery, c.initialCluster, c.discoverySrv].filter((v) => v !== "");
    if (methods.length > 1) {
      fail(
        "initial-cluster",
        'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
      );
    }
    // Timing rules (spec bootstrap.md §5.2).
    if (c.heartbeatIntervalMs <= 0) {
      fail(
        "heartbeat-interval",
        `--heartbeat-interval must be >0 (set to ${c.heartbeatIntervalMs}ms)`,
      );
    }
    if (c.electionTimeoutMs <= 0) {
      fail("election-timeout", `--election-timeout must be >0 (set to ${c.electionTimeoutMs}ms)`);
    }
    if (5 * c.heartbeatIntervalMs > c.electionTimeoutMs) {
      fail(
        "election-timeout",
        `--election-timeout[${c.electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${c.heartbeatIntervalMs}ms]`,
      );
    }
    if (c.electionTimeoutMs > MAX_ELECTION_TIMEOUT_MS) {
      fail(
        "election-timeout",
        `--election-timeout[${c.electionTimeoutMs}ms] is too long, and should be set less than ${MAX_ELECTION_TIMEOUT_MS}ms`,
      );
    }
    // Checked last, as etcd does (a discovery proxy fallback may make it fine, handled by the caller).
    if (c.listenClientUrls.length > 0 && c.advertiseClientUrls.length === 0) {
      fail(
        "advertise-client-urls",
        "--advertise-client-urls is required when --listen-client-urls is set explicitly",
      );
    }
    // Cairn's own.
    if (c.v2HistorySize <= 0) {
      fail("v2-history-size", `--v2-history-size must be >0 (set to ${c.v2HistorySize})`);
    }
    if (
      c.discoverySrvResolver !== "" &&
      parseResolverAddress(c.discoverySrvResolver) === undefined
    ) {
      fail(
        "discovery-srv-resolver",
        `--discovery-srv-resolver: expected an IP address with an optional port (e.g. 127.0.0.1:5353), got ${goQuote(c.discoverySrvResolver)}`,
      );
    }
  });

/**
 * A member's checked configuration. Field names are the flags in camelCase;
 * durations keep etcd's units in the name (`…Ms`). URL lists are sorted, as
 * etcd sorts them.
 */
export type Config = z.infer<typeof configSchema>;

/** Something `parseConfig` noticed that the member should log once its logger exists. */
export interface ConfigNotice {
  readonly level: "info" | "warn";
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What the command line asks for. */
export type ParseResult =
  /** Start a member with `config`. `explicit` holds every flag given by flag or variable. */
  | {
      readonly kind: "run";
      readonly config: Config;
      readonly explicit: ReadonlySet<string>;
      readonly notices: readonly ConfigNotice[];
    }
  /** `-h`/`--help`: print {@link helpText} to stdout, exit 0. */
  | { readonly kind: "help" }
  /** `--version`: print the version, exit 0. */
  | { readonly kind: "version" }
  /**
   * `--config-file` (or `ETCD_CONFIG_FILE`): every other flag and variable is
   * ignored; read the file and pass its text to {@link parseConfigFile}.
   */
  | { readonly kind: "config-file"; readonly path: string };

/** Go's `%q` for the strings etcd quotes in its messages (JSON escaping is close enough). */
function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** A flag's value from the command line, environment or a configuration file, already parsed. */
export interface Given {
  readonly value: FlagValue;
  readonly source: "flag" | "env" | "file";
}

/**
 * Reads argv with Go's `flag` package rules, which etcd uses: `-f` and `--f`
 * alike, `--f=v` or `--f v`, booleans never take the next argument, `--`
 * ends the flags, the first non-flag argument ends them too. Each value is
 * parsed when it is read, so the first bad one is the one reported.
 */
function parseArgv(argv: readonly string[]): {
  given: Map<string, Given>;
  rest: string[];
  help: boolean;
} {
  const given = new Map<string, Given>();
  const args = [...argv];
  while (args.length > 0) {
    const s = args[0] ?? "";
    if (s.length < 2 || s[0] !== "-") break;
    let dashes = 1;
    if (s[1] === "-") {
      dashes = 2;
      if (s.length === 2) {
        args.shift();
        break;
      }
    }
    let name = s.slice(dashes);
    if (name === "" || name[0] === "-" || name[0] === "=") {
      throw new ConfigError("FLAG_SYNTAX", `bad flag syntax: ${s}`);
    }
    args.shift();
    let value: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const flag = FLAGS_BY_NAME.get(name);
    if (flag === undefined) {
      if (name === "help" || name === "h") return { given, rest: args, help: true };
      throw new ConfigError("UNKNOWN_FLAG", `flag provided but not defined: -${name}`, {
        flag: name,
      });
    }
    if (flag.kind === "bool") {
      const parsed = parseFlagValue(flag, value ?? "true");
      if (!parsed.ok) {
        throw new ConfigError(
          "INVALID_FLAG_VALUE",
          `invalid boolean value ${goQuote(value ?? "")} for -${name}: ${parsed.error}`,
          { flag: name },
        );
      }
      given.set(name, { value: parsed.value, source: "flag" });
      continue;
    }
    if (value === undefined) {
      if (args.length === 0) {
        throw new ConfigError("FLAG_NEEDS_ARGUMENT", `flag needs an argument: -${name}`, {
          flag: name,
        });
      }
      value = args.shift() ?? "";
    }
    const parsed = parseFlagValue(flag, value);
    if (!parsed.ok) {
      throw new ConfigError(
        "INVALID_FLAG_VALUE",
        `invalid value ${goQuote(value)} for flag -${name}: ${parsed.error}`,
        { flag: name },
      );
    }
    // An empty URL list is etcd's "allowed exception": the flag counts as set, the value stays.
    const previous = given.get(name)?.value;
    given.set(name, { value: parsed.value ?? previous, source: "flag" });
  }
  return { given, rest: args, help: false };
}

/**
 * Applies `ETCD_*` variables the way etcd's `pkg/flags.SetFlagsFromEnv` does:
 * for every flag not given on the command line (in flag-name order), a
 * non-empty `ETCD_<FLAG>` sets it; then every variable is checked in
 * environment order: one whose flag was also given on the command line is
 * fatal (even when empty), an unused `ETCD_*` one draws a warning.
 */
function applyEnv(
  given: Map<string, Given>,
  env: Readonly<Record<string, string | undefined>>,
  notices: ConfigNotice[],
): void {
  const onCommandLine = new Set([...given.keys()].map(flagToEnv));
  const used = new Set<string>();
  let valueError: ConfigError | undefined;
  const byName = [...FLAGS].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const flag of byName) {
    const key = flagToEnv(flag.name);
    if (onCommandLine.has(key)) continue;
    const raw = env[key];
    if (raw === undefined || raw === "") continue;
    used.add(key);
    const parsed = parseFlagValue(flag, raw);
    if (!parsed.ok) {
      // etcd keeps going and reports the last bad variable (in flag-name order).
      valueError = new ConfigError(
        "INVALID_ENV_VALUE",
        `invalid value ${goQuote(raw)} for ${key}: ${parsed.error}`,
        { flag: flag.name },
      );
      continue;
    }
    // `--version` from the environment is read but changes nothing (etcd checks it before).
    if (flag.name !== "version") {
      const previous = given.get(flag.name)?.value;
      given.set(flag.name, { value: parsed.value ?? previous, source: "env" });
    }
    notices.push({
      level: "info",
      msg: "recognized and used environment variable",
      fields: { "variable-name": key, "variable-value": raw },
    });
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || used.has(key)) continue;
    if (onCommandLine.has(key)) {
      throw new ConfigError(
        "ENV_CONFLICT",
        `conflicting environment variable ${goQuote(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        { flag: [...given.keys()].find((name) => flagToEnv(name) === key) ?? key },
      );
    }
    if (key.startsWith("ETCD_")) {
      notices.push({
        level: "warn",
        msg: "unrecognized environment variable",
        fields: { "environment-variable": `${key}=${value}` },
      });
    }
  }
  if (valueError !== undefined) throw valueError;
}

/** The default of `flag` as a typed value. */
function defaultValue(flag: FlagSpec): FlagValue {
  if (flag.name === "data-dir") return "";
  const parsed = parseFlagValue(flag, flag.defaultText);
  if (!parsed.ok) throw new Error(`bad default for --${flag.name}: ${parsed.error}`);
  return parsed.value ?? [];
}

/**
 * Parses etcd 3.4's command line (`argv` without the program name) and
 * `ETCD_*` environment into a {@link ParseResult}. Throws {@link ConfigError}
 * with a one-line message for anything etcd would refuse, and for Cairn's
 * own rules.
 *
 * The bootstrap membership rules (`--initial-cluster` must list `--name`
 * with its advertised peer URLs) are not checked here: etcd skips them once
 * the data directory holds a member, so the entry calls
 * {@link checkBootstrap} only for an empty data directory.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParseResult {
  const { given, rest, help } = parseArgv(argv);
  if (help) return { kind: "help" };
  if (rest.length > 0) {
    throw new ConfigError("NOT_A_FLAG", `'${rest[0]}' is not a valid flag`);
  }
  if (given.get("version")?.value === true) return { kind: "version" };

  // etcd reads ETCD_CONFIG_FILE (only) before deciding whether variables count at all.
  const configFile = (flagValue(given, "config-file") as string) || (env.ETCD_CONFIG_FILE ?? "");
  if (configFile !== "") return { kind: "config-file", path: configFile };

  const notices: ConfigNotice[] = [];
  applyEnv(given, env, notices);

  const discovery = flagValue(given, "discovery");
  const discoveryFallback = flagValue(given, "discovery-fallback");
  // etcd's mayBeProxy: proxy mode is on, or discovery may fall back to it.
  const mayBeProxy =
    flagValue(given, "proxy") !== "off" || (discovery !== "" && discoveryFallback === "proxy");
  // Listening on chosen client URLs drops the default advertised ones (spec §2).
  const missingAdvertise = given.has("listen-client-urls") && !given.has("advertise-client-urls");
  // A discovery method replaces the default initial cluster, not an explicit one.
  const dropInitialCluster =
    (discovery !== "" ||
      flagValue(given, "discovery-srv") !== "" ||
      flagValue(given, "discovery-srv-name") !== "") &&
    !given.has("initial-cluster");
  const config = assemble(given, {
    dropAdvertiseClientUrls: missingAdvertise && !mayBeProxy,
    dropInitialCluster,
  });
  finish(config, notices);
  return { kind: "run", config, explicit: new Set(given.keys()), notices };
}

/** The value of flag `name`: given (flag, variable or file) or its default. */
function flagValue(given: ReadonlyMap<string, Given>, name: string): FlagValue {
  const flag = FLAGS_BY_NAME.get(name);
  if (flag === undefined) throw new Error(`no flag --${name}`);
  // An empty URL list leaves the default in place (value undefined) yet counts as given.
  return given.get(name)?.value ?? defaultValue(flag);
}

/**
 * Builds the candidate configuration from the given values and defaults and
 * checks it against {@link configSchema}; the first problem, in etcd's
 * order, becomes the ConfigError.
 */
export function assemble(
  given: ReadonlyMap<string, Given>,
  rules: { dropAdvertiseClientUrls: boolean; dropInitialCluster: boolean },
): Config {
  const v = (name: string) => flagValue(given, name);
  const str = (name: string) => v(name) as string;
  const num = (name: string) => v(name) as number;
  const bool = (name: string) => v(name) as boolean;
  const list = (name: string) => v(name) as string[];
  const candidate = {
    name: str("name"),
    dataDir: str("data-dir"),
    walDir: str("wal-dir"),
    snapshotCount: num("snapshot-count"),
    heartbeatIntervalMs: num("heartbeat-interval"),
    electionTimeoutMs: num("election-timeout"),
    listenPeerUrls: list("listen-peer-urls"),
    listenClientUrls: list("listen-client-urls"),
    initialAdvertisePeerUrls: list("initial-advertise-peer-urls"),
    advertiseClientUrls: rules.dropAdvertiseClientUrls ? [] : list("advertise-client-urls"),
    initialCluster: rules.dropInitialCluster ? "" : str("initial-cluster"),
    initialClusterState: str("initial-cluster-state"),
    initialClusterToken: str("initial-cluster-token"),
    discovery: str("discovery"),
    discoverySrv: str("discovery-srv"),
    discoverySrvName: str("discovery-srv-name"),
    discoverySrvResolver: str("discovery-srv-resolver"),
    discoveryFallback: str("discovery-fallback"),
    discoveryProxy: str("discovery-proxy"),
    proxy: str("proxy"),
    proxyFailureWaitMs: num("proxy-failure-wait"),
    proxyRefreshIntervalMs: num("proxy-refresh-interval"),
    proxyDialTimeoutMs: num("proxy-dial-timeout"),
    proxyWriteTimeoutMs: num("proxy-write-timeout"),
    proxyReadTimeoutMs: num("proxy-read-timeout"),
    strictReconfigCheck: bool("strict-reconfig-check"),
    enableV2: bool("enable-v2"),
    cors: list("cors"),
    maxRequestBytes: num("max-request-bytes"),
    quotaBackendBytes: num("quota-backend-bytes"),
    logger: str("logger"),
    logOutputs: list("log-outputs"),
    logLevel: str("log-level"),
    forceNewCluster: bool("force-new-cluster"),
    v2HistorySize: num("v2-history-size"),
  };
  const checked = configSchema.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const path = issue?.path[0];
    throw new ConfigError("INVALID_CONFIG", issue?.message ?? "invalid configuration", {
      flag: typeof path === "string" ? path : "",
      cause: checked.error,
    });
  }
  return checked.data;
}

/** etcd's adjustments after validation, shared by flags and configuration files. */
export function finish(config: Config, notices: ConfigNotice[]): void {
  // etcd's UpdateDefaultClusterFromName: `etcd --name abc` alone bootstraps "abc".
  if (config.name !== DEFAULT_NAME && config.initialCluster === DEFAULT_INITIAL_CLUSTER) {
    const name = config.name === "" ? DEFAULT_NAME : config.name;
    config.initialCluster = config.initialAdvertisePeerUrls
      .map((url) => `${name}=${url}`)
      .join(",");
  }
  if (config.dataDir === "") {
    config.dataDir = `${config.name}.etcd`;
  }
  if (config.snapshotCount === 0) {
    notices.push({
      level: "info",
      msg: "updating snapshot-count to default",
      fields: { "given-snapshot-count": 0, "updated-snapshot-count": DEFAULT_SNAPSHOT_COUNT },
    });
    config.snapshotCount = DEFAULT_SNAPSHOT_COUNT;
  }
}
