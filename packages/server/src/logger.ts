/** Structured fields of a log line; keys are kebab-case, as etcd's logs. */
export type LogFields = Record<string, unknown>;

/**
 * The logger the member writes through. It is injected: libraries stay
 * silent by default and the binary decides where lines go.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
