/**
 * The flags Cairn's member accepts: etcd 3.4.23's names, defaults and help
 * text (from `etcd --help`), in etcd's help sections, plus Cairn's own
 * extensions at the end. The order here is the order of the help text.
 */

/** How a flag's value is read (mirrors the Go flag type etcd declares). */
export type FlagKind =
  /** Free text. */
  | "string"
  /** Go `uint`/`uint64`: digits with Go's base prefixes, no sign. */
  | "uint"
  /** Go `int64`: like uint with an optional sign. */
  | "int"
  /** Go `bool`: `--flag` alone means true; `--flag=false`; never takes the next argument. */
  | "bool"
  /** etcd `UniqueURLs`: comma-separated URLs, checked and sorted; empty keeps the default. */
  | "urls"
  /** etcd `UniqueStringsValue`: comma-separated, de-duplicated, sorted. */
  | "strings"
  /** `--cors`: `*`, or URLs checked like the URL flags (etcd 3.4's `UniqueURLs` with `*` allowed). */
  | "cors"
  /** etcd `SelectiveStringValue`: one of a fixed set. */
  | "enum";

/** One flag: what it is called, how it parses, what `--help` says. */
export interface FlagSpec {
  /** The name without dashes, as etcd spells it. */
  readonly name: string;
  readonly kind: FlagKind;
  /** The default exactly as the help text shows it (between quotes). */
  readonly defaultText: string;
  /** Help lines (etcd's wording), each printed indented under the flag. */
  readonly help: readonly string[];
  readonly section: string;
  /** Allowed values of an `enum` flag (or of a string flag checked later). */
  readonly choices?: readonly string[];
  /** Shown without quotes around the default, as etcd does for a few flags. */
  readonly bareDefault?: boolean;
}

/** etcd's help section of the v2 proxy flags. */
export const PROXY_SECTION = "v2 Proxy (to be deprecated in v4):";

/** Help section that holds Cairn's own flags (not etcd's). */
export const CAIRN_SECTION = "Cairn extensions (not in etcd):";

/** Every flag Cairn accepts, in help order. */
export const FLAGS: readonly FlagSpec[] = [
  // --- Member
  {
    name: "name",
    kind: "string",
    defaultText: "default",
    help: ["Human-readable name for this member."],
    section: "Member:",
  },
  {
    name: "data-dir",
    kind: "string",
    // etcd's help shows the literal text "${name}.etcd".
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal help text, not a template.
    defaultText: "${name}.etcd",
    help: ["Path to the data directory."],
    section: "Member:",
  },
  {
    name: "wal-dir",
    kind: "string",
    defaultText: "",
    help: ["Path to the dedicated wal directory."],
    section: "Member:",
  },
  {
    name: "snapshot-count",
    kind: "uint",
    defaultText: "100000",
    help: ["Number of committed transactions to trigger a snapshot to disk."],
    section: "Member:",
  },
  {
    name: "heartbeat-interval",
    kind: "uint",
    defaultText: "100",
    help: ["Time (in milliseconds) of a heartbeat interval."],
    section: "Member:",
  },
  {
    name: "election-timeout",
    kind: "uint",
    defaultText: "1000",
    help: [
      "Time (in milliseconds) for an election to timeout. See tuning documentation for details.",
    ],
    section: "Member:",
  },
  {
    name: "listen-peer-urls",
    kind: "urls",
    defaultText: "http://localhost:2380",
    help: ["List of URLs to listen on for peer traffic."],
    section: "Member:",
  },
  {
    name: "listen-client-urls",
    kind: "urls",
    defaultText: "http://localhost:2379",
    help: ["List of URLs to listen on for client traffic."],
    section: "Member:",
  },
  {
    name: "quota-backend-bytes",
    kind: "int",
    defaultText: "0",
    help: [
      "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).",
    ],
    section: "Member:",
  },
  {
    name: "max-request-bytes",
    kind: "uint",
    defaultText: "1572864",
    help: ["Maximum client request size in bytes the server will accept."],
    section: "Member:",
  },
  // --- Clustering
  {
    name: "initial-advertise-peer-urls",
    kind: "urls",
    defaultText: "http://localhost:2380",
    help: ["List of this member's peer URLs to advertise to the rest of the cluster."],
    section: "Clustering:",
  },
  {
    name: "initial-cluster",
    kind: "string",
    defaultText: "default=http://localhost:2380",
    help: ["Initial cluster configuration for bootstrapping."],
    section: "Clustering:",
  },
  {
    name: "initial-cluster-state",
    kind: "enum",
    choices: ["new", "existing"],
    defaultText: "new",
    help: ["Initial cluster state ('new' or 'existing')."],
    section: "Clustering:",
  },
  {
    name: "initial-cluster-token",
    kind: "string",
    defaultText: "etcd-cluster",
    help: [
      "Initial cluster token for the etcd cluster during bootstrap.",
      "Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.",
    ],
    section: "Clustering:",
  },
  {
    name: "advertise-client-urls",
    kind: "urls",
    defaultText: "http://localhost:2379",
    help: [
      "List of this member's client URLs to advertise to the public.",
      "The client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster.",
    ],
    section: "Clustering:",
  },
  {
    name: "discovery",
    kind: "string",
    defaultText: "",
    help: ["Discovery URL used to bootstrap the cluster."],
    section: "Clustering:",
  },
  {
    name: "discovery-fallback",
    kind: "enum",
    choices: ["exit", "proxy"],
    defaultText: "proxy",
    help: [
      "Expected behavior ('exit' or 'proxy') when discovery services fails.",
      '"proxy" supports v2 API only.',
    ],
    section: "Clustering:",
  },
  {
    name: "discovery-proxy",
    kind: "string",
    defaultText: "",
    help: ["HTTP proxy to use for traffic to discovery service."],
    section: "Clustering:",
  },
  {
    name: "discovery-srv",
    kind: "string",
    defaultText: "",
    help: ["DNS srv domain used to bootstrap the cluster."],
    section: "Clustering:",
  },
  {
    name: "discovery-srv-name",
    kind: "string",
    defaultText: "",
    help: ["Suffix to the dns srv name queried when bootstrapping."],
    section: "Clustering:",
  },
  {
    name: "strict-reconfig-check",
    kind: "bool",
    defaultText: "true",
    help: ["Reject reconfiguration requests that would cause quorum loss."],
    section: "Clustering:",
  },
  {
    // Cairn serves only the v2 API, so it is on by default (etcd 3.4: 'false').
    name: "enable-v2",
    kind: "bool",
    defaultText: "true",
    help: [
      "Accept etcd V2 client requests.",
      "Cairn: on by default, since the v2 API is the API Cairn serves (etcd 3.4's default is 'false').",
    ],
    section: "Clustering:",
  },
  // --- Security
  {
    name: "cors",
    kind: "cors",
    defaultText: "*",
    help: [
      "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).",
    ],
    section: "Security:",
  },
  // --- Logging
  {
    // Cairn always writes zap-shaped JSON lines, so 'zap' is the default (etcd 3.4: 'capnslog').
    name: "logger",
    // Checked after parsing, as etcd does (exit 1, `unknown logger option`).
    kind: "string",
    choices: ["zap", "capnslog"],
    defaultText: "zap",
    help: [
      "Specify 'zap' for structured logging or 'capnslog'.",
      "Cairn: always writes structured JSON lines; 'capnslog' is accepted for compatibility.",
    ],
    section: "Logging:",
  },
  {
    name: "log-outputs",
    kind: "strings",
    defaultText: "default",
    help: [
      "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.",
    ],
    section: "Logging:",
  },
  {
    name: "log-level",
    // Checked after parsing (etcd 3.4 panics on an unknown level).
    kind: "string",
    choices: ["debug", "info", "warn", "error", "panic", "fatal"],
    defaultText: "info",
    help: ["Configures log level. Only supports debug, info, warn, error, panic, or fatal."],
    section: "Logging:",
  },
  // --- v2 proxy (spec bootstrap §3.4; etcd's own section heading)
  {
    name: "proxy",
    kind: "enum",
    choices: ["off", "readonly", "on"],
    defaultText: "off",
    help: ["Proxy mode setting ('off', 'readonly' or 'on')."],
    section: PROXY_SECTION,
  },
  {
    name: "proxy-failure-wait",
    kind: "uint",
    defaultText: "5000",
    bareDefault: true,
    help: ["Time (in milliseconds) an endpoint will be held in a failed state."],
    section: PROXY_SECTION,
  },
  {
    name: "proxy-refresh-interval",
    kind: "uint",
    defaultText: "30000",
    bareDefault: true,
    help: ["Time (in milliseconds) of the endpoints refresh interval."],
    section: PROXY_SECTION,
  },
  {
    name: "proxy-dial-timeout",
    kind: "uint",
    defaultText: "1000",
    bareDefault: true,
    help: ["Time (in milliseconds) for a dial to timeout."],
    section: PROXY_SECTION,
  },
  {
    name: "proxy-write-timeout",
    kind: "uint",
    defaultText: "5000",
    bareDefault: true,
    help: ["Time (in milliseconds) for a write to timeout."],
    section: PROXY_SECTION,
  },
  {
    name: "proxy-read-timeout",
    kind: "uint",
    defaultText: "0",
    bareDefault: true,
    help: ["Time (in milliseconds) for a read to timeout."],
    section: PROXY_SECTION,
  },
  // --- Unsafe
  {
    name: "force-new-cluster",
    kind: "bool",
    defaultText: "false",
    help: ["Force to create a new one-member cluster."],
    section: "Unsafe feature:",
  },
  // --- Cairn's own
  {
    name: "v2-history-size",
    kind: "uint",
    defaultText: "1000",
    help: [
      "Number of past v2 events kept for watches with waitIndex (etcd keeps exactly 1000).",
      "A watcher that falls further behind gets error 401 (event index cleared).",
    ],
    section: CAIRN_SECTION,
  },
  {
    name: "discovery-srv-resolver",
    kind: "string",
    defaultText: "",
    help: [
      "DNS server (IP[:port], port 53 by default) to ask for the --discovery-srv records and their targets' addresses instead of the system resolver.",
    ],
    section: CAIRN_SECTION,
  },
  // --- Not in a section: handled before anything else (listed in the usage block).
  {
    name: "config-file",
    kind: "string",
    defaultText: "",
    help: [
      "Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.",
    ],
    section: "",
  },
  {
    name: "version",
    kind: "bool",
    defaultText: "false",
    help: ["Print the version and exit."],
    section: "",
  },
];

/** Flags by name. */
export const FLAGS_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));

/** `name-of-flag` -> `ETCD_NAME_OF_FLAG`, etcd's `flags.FlagToEnv("ETCD", name)`. */
export function flagToEnv(name: string): string {
  return "ETCD_" + name.toUpperCase().replaceAll("-", "_");
}
