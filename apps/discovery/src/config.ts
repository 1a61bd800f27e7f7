import { parseArgs } from "node:util";
import { z } from "zod";

/** The service's settings, after validation. */
export interface DiscoveryConfig {
  /** Interface to listen on (`--addr` host part). */
  readonly hostname: string;
  /** Port to listen on (`--addr` port part); 0 picks a free one. */
  readonly port: number;
  /** Public base URL used in token URLs (`--host`), without a trailing slash. */
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly tokenTtlMs: number;
  /** Requests per second per client address; 0 = unlimited. */
  readonly rateLimit: number;
  readonly rateLimitBurst: number;
  /** Period of the token GC sweep. */
  readonly gcIntervalMs: number;
  /** Client URLs of an external cluster to keep tokens in (`--etcd`); absent = the embedded store. */
  readonly etcd?: readonly string[];
}

/** A flag (or its `DISC_*` variable) has a bad value; `flag` names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "CONFIG";
  readonly flag: string;
  constructor(flag: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.flag = flag;
  }
}

/** `--help` was asked for; the caller prints {@link USAGE}. */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
  readonly code = "HELP";
}

/** The flags, their variables and defaults, as `--help` prints them. */
export const USAGE = `usage: discovery [flags]

Cairn's discovery service: GET /new?size=N hands out token URLs that etcd
and Cairn members bootstrap from (--discovery <token URL>).

flags (each also read from the DISC_* variable shown; a flag wins):
  --addr host:port       listen address (DISC_ADDR; default 127.0.0.1:8087)
  --host url             public base URL used in token URLs (DISC_HOST;
                         default http://<addr>)
  --data-dir dir         where tokens are stored (DISC_DATA_DIR; default discovery.data)
  --token-ttl duration   age after which tokens are deleted, e.g. 168h, 7d
                         (DISC_TOKEN_TTL; default 7d)
  --rate-limit n         requests per second per client address, 0 = no limit
                         (DISC_RATE_LIMIT; default 20)
  --rate-limit-burst n   requests a client may make at once (DISC_RATE_LIMIT_BURST;
                         default 100)
  --gc-interval duration how often expired tokens are swept (DISC_GC_INTERVAL;
                         default 10m)
  --etcd urls            keep tokens in an external Cairn or etcd (v2) cluster,
                         under /_etcd/registry, instead of --data-dir: its
                         client URLs, comma separated (DISC_ETCD)
  --help                 this text
`;

const FLAGS = {
  addr: "DISC_ADDR",
  host: "DISC_HOST",
  "data-dir": "DISC_DATA_DIR",
  "token-ttl": "DISC_TOKEN_TTL",
  "rate-limit": "DISC_RATE_LIMIT",
  "rate-limit-burst": "DISC_RATE_LIMIT_BURST",
  "gc-interval": "DISC_GC_INTERVAL",
  etcd: "DISC_ETCD",
} as const;
type Flag = keyof typeof FLAGS;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as Go's `time.ParseDuration` writes them (`168h`, `1h30m`,
 * `90s`, `500ms`), plus `d` for days. Returns ms, or undefined when malformed.
 */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(n) * UNIT_MS[unit!]!;
  }
  return Math.round(total);
}

const addr = z.string().transform((s, ctx) => {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(s);
  const port = Number(m?.[2]);
  if (m === null || port > 65535) {
    ctx.addIssue({ code: "custom", message: "want host:port, e.g. 127.0.0.1:8087" });
    return z.NEVER;
  }
  return { hostname: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
});

const publicUrl = z.string().transform((s, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    // reported below
  }
  if (
    url === undefined ||
    !/^https?:$/.test(url.protocol) ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    ctx.addIssue({
      code: "custom",
      message: "want an http(s) URL without query, e.g. https://discovery.example.com",
    });
    return z.NEVER;
  }
  return s.replace(/\/+$/, "");
});

const endpoints = z.string().transform((s, ctx) => {
  const urls = s.split(",").map((u) => u.trim());
  for (const u of urls) {
    let ok = false;
    try {
      const url = new URL(u);
      ok = /^https?:$/.test(url.protocol) && (url.pathname === "/" || url.pathname === "");
    } catch {
      // reported below
    }
    if (!ok) {
      ctx.addIssue({
        code: "custom",
        message: `want client URLs such as http://127.0.0.1:2379, not ${JSON.stringify(u)}`,
      });
      return z.NEVER;
    }
  }
  return urls.map((u) => u.replace(/\/+$/, ""));
});

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: "custom",
      message: "want a positive duration such as 168h, 7d, 30m, 10s",
    });
    return z.NEVER;
  }
  return ms;
});

const rate = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "want a number of requests per second (0 = no limit)")
  .transform(Number);

const burst = z
  .string()
  .regex(/^\d+$/, "want a whole number of requests")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be at least 1"));

/**
 * Reads the settings from the command line and `DISC_*` variables (a flag
 * wins over its variable), validated. Throws {@link ConfigError} naming the
 * first bad flag, or {@link HelpRequested}.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DiscoveryConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.keys(FLAGS).map((f) => [f, { type: "string" as const }]),
    );
    values = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flag = /'(--?[^' ]+)/.exec(message)?.[1] ?? "arguments";
    // node:util's messages run over several lines; the service prints one.
    const line = /argument is ambiguous/.test(message)
      ? `${flag} needs a value (write ${flag}=<value> for a value starting with "-")`
      : message.split("\n")[0]!.replace(/\. To specify.*$/, "");
    throw new ConfigError(flag, line, { cause: error });
  }
  if (values.help === true) throw new HelpRequested("help requested");

  const raw = (flag: Flag): string | undefined => {
    const v = values[flag];
    return typeof v === "string" ? v : env[FLAGS[flag]];
  };
  const check = <T>(flag: Flag, schema: z.ZodType<T, string>, fallback: string): T => {
    const text = raw(flag) ?? fallback;
    const r = schema.safeParse(text);
    if (!r.success) {
      const from = typeof values[flag] === "string" ? `--${flag}` : FLAGS[flag];
      throw new ConfigError(
        `--${flag}`,
        `invalid ${from} ${JSON.stringify(text)}: ${r.error.issues[0]?.message ?? "bad value"}`,
      );
    }
    return r.data;
  };

  const listen = check("addr", addr, "127.0.0.1:8087");
  const hostText = raw("host");
  const host =
    hostText === undefined
      ? `http://${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${listen.port}`
      : check("host", publicUrl, "");
  const dataDir = raw("data-dir") ?? "discovery.data";
  if (dataDir === "") throw new ConfigError("--data-dir", "invalid --data-dir: must not be empty");
  const etcd = raw("etcd") === undefined ? undefined : check("etcd", endpoints, "");
  return {
    ...(etcd === undefined ? {} : { etcd }),
    hostname: listen.hostname,
    port: listen.port,
    publicUrl: host,
    dataDir,
    tokenTtlMs: check("token-ttl", duration, "7d"),
    rateLimit: check("rate-limit", rate, "20"),
    rateLimitBurst: check("rate-limit-burst", burst, "100"),
    gcIntervalMs: check("gc-interval", duration, "10m"),
  };
}
