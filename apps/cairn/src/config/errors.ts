/**
 * Why a command line or environment could not become a configuration.
 *
 * The codes follow where etcd 3.4 detects the problem, because that decides
 * how the process ends: etcd's Go `flag` package rejects syntax and values
 * while parsing (exit 2, usage printed after the message); everything found
 * later (environment, cross-flag rules, bootstrap membership) exits 1.
 */
export type ConfigErrorCode =
  /** `---x`, `-=x`: not a flag at all (Go: `bad flag syntax: ...`). */
  | "FLAG_SYNTAX"
  /** `--foo` that no flag answers to (Go: `flag provided but not defined: -foo`). */
  | "UNKNOWN_FLAG"
  /** `--name` as the last argument (Go: `flag needs an argument: -name`). */
  | "FLAG_NEEDS_ARGUMENT"
  /** A flag's value does not parse (Go: `invalid value "x" for flag -f: ...`). */
  | "INVALID_FLAG_VALUE"
  /** A positional argument after the flags (`'foo' is not a valid flag`). */
  | "NOT_A_FLAG"
  /** An `ETCD_*` variable's value does not parse. */
  | "INVALID_ENV_VALUE"
  /** A flag and its `ETCD_*` variable are both given (fatal in etcd 3.4). */
  | "ENV_CONFLICT"
  /** Flags parse one by one but do not fit together (timing, bootstrap, URLs). */
  | "INVALID_CONFIG"
  /** `--initial-cluster` does not describe this member (checked only at bootstrap). */
  | "INVALID_BOOTSTRAP";

/** Exit status etcd uses for each code: 2 for Go flag-package errors, else 1. */
const EXIT_CODES: Record<ConfigErrorCode, 1 | 2> = {
  FLAG_SYNTAX: 2,
  UNKNOWN_FLAG: 2,
  FLAG_NEEDS_ARGUMENT: 2,
  INVALID_FLAG_VALUE: 2,
  NOT_A_FLAG: 1,
  INVALID_ENV_VALUE: 1,
  ENV_CONFLICT: 1,
  INVALID_CONFIG: 1,
  INVALID_BOOTSTRAP: 1,
};

/**
 * A configuration error. `message` is the single line to print (it names the
 * flag or variable and the problem, in etcd's words where etcd has words for
 * it); `exitCode` is the status to exit with; `showUsage` says whether etcd
 * would print its short usage text after the line (flag-package errors).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code: ConfigErrorCode;
  /** The flag concerned, without dashes (`name`), when there is exactly one. */
  readonly flag: string | undefined;
  readonly exitCode: 1 | 2;
  readonly showUsage: boolean;

  constructor(
    code: ConfigErrorCode,
    message: string,
    options: { flag?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.flag = options.flag;
    this.exitCode = EXIT_CODES[code];
    this.showUsage = this.exitCode === 2;
  }
}
