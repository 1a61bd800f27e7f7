import type { LogFields, Logger } from "@cairn/server";

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;
/** A log level. */
export type LogLevel = keyof typeof LEVELS;

/**
 * A logger writing one JSON object per line (`level`, `ts`, `msg`, then the
 * fields, kebab-case), the shape etcd and the Cairn member log in.
 */
export function jsonLogger(
  write: (line: string) => void,
  minLevel: LogLevel = "info",
  bound: LogFields = {},
): Logger {
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    write(`${JSON.stringify({ level, ts: new Date().toISOString(), msg, ...bound, ...fields })}\n`);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (fields) => jsonLogger(write, minLevel, { ...bound, ...fields }),
  };
}
