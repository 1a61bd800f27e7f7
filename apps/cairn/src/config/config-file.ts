/**
 * `--config-file`: etcd 3.4's YAML configuration file. Its keys are the flag
 * names; when a file is given, every other flag and `ETCD_*` variable is
 * ignored (spec bootstrap.md §5.4). Values are typed as etcd's Go struct
 * fields type them (a quoted number is not a number), and the errors are
 * etcd's. Pure: the entry reads the file and passes its text.
 */
import { ConfigError } from "./errors.js";
import { FLAGS_BY_NAME, type FlagSpec } from "./flags.js";
import {
  assemble,
  type ConfigNotice,
  DEFAULT_INITIAL_CLUSTER,
  finish,
  type Given,
  type ParseResult,
} from "./parse.js";
import { parseUrlList, UrlSyntaxError } from "./urls.js";
import { parseFlagValue } from "./values.js";
import { parseFlatYaml, YamlSyntaxError, type YamlValue } from "./yaml.js";

/** The Go type etcd's `configYAML` gives each key (named in etcd's errors). */
function goType(flag: FlagSpec): string {
  switch (flag.kind) {
    case "bool":
      return "bool";
    case "int":
      return "int64";
    case "uint":
      return flag.name === "snapshot-count" || flag.name === "v2-history-size" ? "uint64" : "uint";
    case "strings":
      return flag.name === "log-outputs" ? "[]string" : "string";
    default:
      return "string";
  }
}

/** How Go's encoding/json names a value it cannot store (`string`, `number -1`, `array`…). */
function jsonKind(value: YamlValue, numericTarget: boolean): string {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint" || typeof value === "number") {
    // A number that is a number but does not fit the integer field is quoted with its text.
    return numericTarget ? `number ${value}` : "number";
  }
  if (Array.isArray(value)) return "array";
  return "object";
}

const LIMITS: Record<string, [bigint, bigint]> = {
  uint: [0n, (1n << 64n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
};

/** The first value (by key, as Go's JSON decoding visits them) of the wrong type. */
function typeError(key: string, flag: FlagSpec, value: YamlValue): string | undefined {
  const type = goType(flag);
  const fail = (kind: string) =>
    `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go struct field configYAML.${key} of type ${type}`;
  const limits = LIMITS[type];
  if (limits !== undefined) {
    if (typeof value === "bigint") {
      return value < limits[0] || value > limits[1] ? fail(jsonKind(value, true)) : undefined;
    }
    return fail(jsonKind(value, typeof value === "number"));
  }
  if (type === "bool") return typeof value === "boolean" ? undefined : fail(jsonKind(value, false));
  if (type === "[]string") {
    if (!Array.isArray(value)) return fail(jsonKind(value, false));
    const bad = value.find((item) => typeof item !== "string" && item !== null);
    return bad === undefined
      ? undefined
      : `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(bad, false)} into Go struct field configYAML.${key} of type string`;
  }
  return typeof value === "string" ? undefined : fail(jsonKind(value, false));
}

/** Keys of etcd's file format that Cairn reads; others draw a warning. */
const FILE_KEYS = new Set(
  [...FLAGS_BY_NAME.keys()].filter((k) => k !== "version" && k !== "config-file"),
);

/** URL keys, in the order etcd parses them after decoding. */
const URL_KEYS = [
  "listen-peer-urls",
  "listen-client-urls",
  "advertise-client-urls",
  "initial-advertise-peer-urls",
];

/**
 * Parses the text of an etcd 3.4 configuration file into the same result as
 * {@link parseConfig} gives for flags. `path` is only used in the notice
 * that says which file was loaded. Throws {@link ConfigError}.
 */
export function parseConfigFile(text: string, path: string): ParseResult & { kind: "run" } {
  let yaml: Map<string, YamlValue>;
  try {
    yaml = parseFlatYaml(text);
  } catch (error) {
    if (!(error instanceof YamlSyntaxError)) throw error;
    throw new ConfigError("INVALID_CONFIG", error.message, { flag: "config-file", cause: error });
  }
  const notices: ConfigNotice[] = [
    {
      level: "info",
      msg: "loaded server configuration, other configuration command line flags and environment variables will be ignored if provided",
      fields: { path },
    },
  ];
  const given = new Map<string, Given>();
  const raw = new Map<string, string>();
  const keys = [...yaml.keys()].sort();
  for (const key of keys) {
    const value = yaml.get(key) ?? null;
    const flag = FLAGS_BY_NAME.get(key);
    if (flag === undefined || !FILE_KEYS.has(key)) {
      notices.push({
        level: "warn",
        msg: "configuration file key not supported by Cairn; ignored",
        fields: { key },
      });
      continue;
    }
    // JSON null leaves a Go field as it was: the default.
    if (value === null) continue;
    const problem = typeError(key, flag, value);
    if (problem !== undefined) {
      throw new ConfigError("INVALID_CONFIG", problem, { flag: key });
    }
    if (typeof value === "bigint") {
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ConfigError("INVALID_CONFIG", `${key}: value out of range`, { flag: key });
      }
      given.set(key, { value: Number(value), source: "file" });
    } else if (Array.isArray(value)) {
      const items = value.filter((v): v is string => typeof v === "string" && v !== "");
      given.set(key, { value: [...new Set(items)].sort(), source: "file" });
    } else if (typeof value === "string" && flag.kind === "cors") {
      // etcd 3.4 panics on a bad value here; Cairn names the key instead.
      const parsed = parseFlagValue(flag, value);
      if (!parsed.ok) {
        throw new ConfigError("INVALID_CONFIG", `--cors: ${parsed.error}`, { flag: key });
      }
      if (value !== "") given.set(key, { value: parsed.value, source: "file" });
    } else if (typeof value === "string" && flag.kind === "strings") {
      given.set(key, {
        value: [...new Set(value.split(",").filter((v) => v !== ""))].sort(),
        source: "file",
      });
    } else if (typeof value === "string" || typeof value === "boolean") {
      if (flag.kind === "urls") {
        if (value !== "") raw.set(key, value as string);
      } else {
        given.set(key, { value, source: "file" });
      }
    }
  }
  for (const key of URL_KEYS) {
    const text = raw.get(key);
    if (text === undefined) continue;
    try {
      given.set(key, { value: parseUrlList(text).map((u) => u.href), source: "file" });
    } catch (error) {
      if (!(error instanceof UrlSyntaxError)) throw error;
      throw new ConfigError(
        "INVALID_CONFIG",
        `unexpected error setting up ${key}: ${error.message}`,
        {
          flag: key,
          cause: error,
        },
      );
    }
  }
  // An empty state in a file means "new" (etcd: ClusterState == "" -> new).
  if (given.get("initial-cluster-state")?.value === "") given.delete("initial-cluster-state");
  const initialCluster = given.get("initial-cluster")?.value ?? DEFAULT_INITIAL_CLUSTER;
  const discoveryGiven =
    (given.get("discovery")?.value ?? "") !== "" ||
    (given.get("discovery-srv")?.value ?? "") !== "";
  // etcd checks this after the rest; a bad value must not reach the schema.
  const fallback = given.get("discovery-fallback")?.value;
  if (fallback !== undefined && fallback !== "exit" && fallback !== "proxy") {
    throw new ConfigError(
      "INVALID_CONFIG",
      "unexpected error setting up discovery-fallback flag: invalid value",
      { flag: "discovery-fallback" },
    );
  }
  const config = assemble(given, {
    // In a file, unlike on the command line, listening URLs never drop the advertised default.
    dropAdvertiseClientUrls: false,
    dropInitialCluster: discoveryGiven && initialCluster === DEFAULT_INITIAL_CLUSTER,
  });
  finish(config, notices);
  return { kind: "run", config, explicit: new Set(given.keys()), notices };
}
