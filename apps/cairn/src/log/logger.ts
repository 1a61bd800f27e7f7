/**
 * Cairn's structured logger: an interface libraries accept (silent unless the
 * member injects a real one) and the member's JSON-lines implementation,
 * shaped like the lines etcd's zap logger writes: `level`, `ts`, `msg`, then
 * kebab-case fields. No `caller` (it would name our files, not etcd's).
 */

/**
 * The logger every Cairn library accepts. `packages/server` declares a
 * structurally identical interface, so either side's value fits the other.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (a call's own fields win on a clash). */
  child(fields: Record<string, unknown>): Logger;
}

/** A logger that drops everything: the default for libraries and tests. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** Levels in order of severity, as etcd's `--log-level` names them. */
export const LEVELS = ["debug", "info", "warn", "error", "panic", "fatal"] as const;

/** A log level name. */
export type Level = (typeof LEVELS)[number];

/** Where finished lines go; each call gets one complete line ending in `\n`. */
export type LogSink = (line: string) => void;

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Receives each line; the runtime entry writes it to stderr (or a file). */
  sink: LogSink;
  /** Lines below this level are dropped (default `info`, as etcd's). */
  level?: Level;
  /** Clock for `ts`; injectable so tests are exact. */
  now?: () => Date;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
}

/** `camelCase`/`snake_case` -> `kebab-case`; kebab-case keys stay as they are. */
export function kebabCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .replaceAll("_", "-")
    .toLowerCase();
}

/**
 * Turns a field value into something JSON holds: errors become their
 * message (etcd logs `"error":"…"`), bigints a number when exact and a
 * decimal string otherwise (ids should be passed through `formatId`), dates
 * ISO strings, sets and maps arrays and objects.
 */
function jsonValue(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Error) return value.message;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "function" || typeof value === "symbol") return String(value);
  if (value === undefined) return null;
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (value instanceof Set) return [...value].map((v) => jsonValue(v, seen));
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), jsonValue(v, seen)]));
  }
  if (Array.isArray(value)) return value.map((v) => jsonValue(v, seen));
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v, seen)]));
}

/** Field keys that would overwrite the line's own keys get a prefix instead. */
const RESERVED = new Set(["level", "ts", "msg"]);

function addFields(target: Record<string, unknown>, fields: Record<string, unknown> | undefined) {
  if (fields === undefined) return;
  for (const [key, value] of Object.entries(fields)) {
    const name = kebabCase(key);
    target[RESERVED.has(name) ? `field-${name}` : name] = jsonValue(value);
  }
}

/**
 * The member's logger: one JSON object per line, e.g.
 * `{"level":"info","ts":"2026-11-22T00:36:35.006Z","msg":"became leader","term":2}`.
 * `ts` is RFC 3339 in UTC with milliseconds, as etcd's zap encoder writes it.
 * A sink that throws loses that line, never the caller's work.
 */
export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = LEVELS.indexOf(options.level ?? "info");
  const now = options.now ?? (() => new Date());
  const make = (base: Record<string, unknown>): Logger => {
    const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
      if (LEVELS.indexOf(level) < threshold) return;
      const line: Record<string, unknown> = { level, ts: now().toISOString(), msg };
      Object.assign(line, base);
      addFields(line, fields);
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch (error) {
        text = JSON.stringify({
          level,
          ts: line.ts,
          msg,
          "log-error": error instanceof Error ? error.message : String(error),
        });
      }
      try {
        options.sink(`${text}\n`);
      } catch {
        // Logging must never take the member down; the line is lost.
      }
    };
    return {
      debug: (msg, fields) => write("debug", msg, fields),
      info: (msg, fields) => write("info", msg, fields),
      warn: (msg, fields) => write("warn", msg, fields),
      error: (msg, fields) => write("error", msg, fields),
      child(fields) {
        const next = { ...base };
        addFields(next, fields);
        return make(next);
      },
    };
  };
  const base: Record<string, unknown> = {};
  addFields(base, options.fields);
  return make(base);
}
