/**
 * Command-line parsing with the exact conventions of etcdctl v2, which uses
 * urfave/cli v1 on top of Go's `flag` package:
 *
 * - global options come before the command; parsing stops at the first
 *   argument that is not a flag (Go `flag`), `--` ends the options;
 * - `-name`, `--name`, `--name=value`, `--name value`; booleans take no
 *   separate value (`--sort=false` works);
 * - for a command, urfave first moves the arguments that are *defined* flags
 *   of that command (and the value after a non-`=` flag) in front of the
 *   others (a `--` goes to the front of the rest, see `reorderArgs`). That
 *   is why `get /k --sort` works while in `set /k -5` the `-5` stays a value,
 *   and why `mk --in-order /q v --ttl 5` swallows `/q` as the flag's
 *   follower (etcdctl-v2.md §5).
 *
 * The error texts are Go's, since etcdctl prints them.
 */

/** The value kinds etcdctl's flags use. */
export type FlagKind = "bool" | "string" | "int" | "duration";

/** One option. `names[0]` is the canonical name; one-letter names print as `-x`. */
export interface FlagDef {
  readonly names: readonly string[];
  readonly kind: FlagKind;
  readonly usage: string;
  /** Default value as text (shown in help as `(default: …)` unless `hideDefault`). */
  readonly defaultValue?: string;
  readonly hideDefault?: boolean;
}

/** Parsed flag values by canonical name; defaults filled in. */
export type FlagValues = Map<string, string | number | boolean>;

/** A Go `flag` parse error; `message` is Go's text. */
export class FlagError extends Error {
  override readonly name = "FlagError";
  readonly code = "BAD_FLAG";
}

/** `-h`/`--help` was given where it is not a defined flag (Go's `flag.ErrHelp`). */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
  readonly code = "HELP_REQUESTED";
}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's `strconv.ParseInt(s, 0, 64)`, within JavaScript's safe range. */
export function parseGoInt(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (m === null) return undefined;
  const sign = m[1] === "-" ? -1 : 1;
  let body = m[2]!;
  const prefixed = /^0[xXoObB]/.test(body) || (body.length > 1 && body.startsWith("0"));
  if (body.includes("_")) {
    // Go allows underscores only with a base prefix, between digits.
    if (!prefixed || /__|_$/.test(body)) return undefined;
    body = body.replaceAll("_", "");
  }
  let n: number;
  if (/^0[xX]/.test(body)) n = Number.parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) n = Number.parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) n = Number.parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith("0")) n = Number.parseInt(body.slice(1), 8);
  else n = Number.parseInt(body, 10);
  if (!Number.isSafeInteger(n)) return undefined;
  return sign * n;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration`, in milliseconds. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  while (rest !== "") {
    const m = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/.exec(rest);
    if (m === null || m[1] === "" || m[1] === ".") return undefined;
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

function lookup(defs: readonly FlagDef[], name: string): FlagDef | undefined {
  return defs.find((d) => d.names.includes(name));
}

/** Fills a value map with each flag's default. */
function defaults(defs: readonly FlagDef[]): FlagValues {
  const values: FlagValues = new Map();
  for (const d of defs) {
    const name = d.names[0]!;
    if (d.kind === "bool") values.set(name, false);
    else if (d.kind === "int") values.set(name, parseGoInt(d.defaultValue ?? "0") ?? 0);
    else if (d.kind === "duration") values.set(name, parseGoDuration(d.defaultValue ?? "0") ?? 0);
    else values.set(name, d.defaultValue ?? "");
  }
  return values;
}

/**
 * Go's `flag.FlagSet.Parse`: reads flags from the front of `args` and returns
 * the values and the remaining arguments. Throws {@link FlagError} or
 * {@link HelpRequested}.
 */
export function parseGoFlags(
  defs: readonly FlagDef[],
  args: readonly string[],
): { values: FlagValues; rest: string[] } {
  const values = defaults(defs);
  let i = 0;
  while (i < args.length) {
    const s = args[i]!;
    if (s.length < 2 || s[0] !== "-") break;
    let minuses = 1;
    if (s[1] === "-") {
      minuses = 2;
      if (s.length === 2) {
        i++;
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === "-" || name[0] === "=") {
      throw new FlagError(`bad flag syntax: ${s}`);
    }
    i++;
    let value: string | undefined;
    const eq = name.indexOf("=", 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const def = lookup(defs, name);
    if (def === undefined) {
      if (name === "help" || name === "h") throw new HelpRequested("flag: help requested");
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    const key = def.names[0]!;
    if (def.kind === "bool") {
      if (value === undefined) values.set(key, true);
      else if (GO_TRUE.has(value)) values.set(key, true);
      else if (GO_FALSE.has(value)) values.set(key, false);
      else
        throw new FlagError(
          `invalid boolean value ${JSON.stringify(value)} for -${name}: parse error`,
        );
      continue;
    }
    if (value === undefined) {
      if (i >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[i]!;
      i++;
    }
    if (def.kind === "string") {
      values.set(key, value);
    } else {
      const n = def.kind === "int" ? parseGoInt(value) : parseGoDuration(value);
      if (n === undefined) {
        throw new FlagError(
          `invalid value ${JSON.stringify(value)} for flag -${name}: parse error`,
        );
      }
      values.set(key, n);
    }
  }
  return { values, rest: args.slice(i) };
}

/** urfave/cli's `argIsFlag`: is `arg` one of the command's defined flags? */
function argIsFlag(defs: readonly FlagDef[], arg: string): boolean {
  if (arg === "-" || arg === "--" || !arg.startsWith("-")) return false;
  let name = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
  name = name.split("=")[0] ?? "";
  return defs.some((d) => d.names.includes(name));
}

/**
 * urfave/cli v1.22's `reorderArgs`: moves the command's own flags (and the
 * value following a flag written without `=`) in front of the other
 * arguments. A `--` goes to the front of the rest, so Go's `flag` consumes it:
 * after `exec-watch --after-index 5 /k -- cmd`, the arguments are `/k cmd`,
 * while after `exec-watch -r /k -- cmd` (the bool flag takes `/k` along as
 * its "value") they are `/k -- cmd`. etcdctl 3.4.23 behaves exactly so.
 */
export function reorderArgs(defs: readonly FlagDef[], args: readonly string[]): string[] {
  const reordered: string[] = [];
  let remaining: string[] = [];
  let mayTakeValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (mayTakeValue && !argIsFlag(defs, arg)) {
      mayTakeValue = false;
      reordered.push(arg);
    } else if (arg === "--") {
      remaining = ["--", ...remaining, ...args.slice(i + 1)];
      break;
    } else if (argIsFlag(defs, arg)) {
      reordered.push(arg);
      mayTakeValue = !arg.includes("=");
    } else {
      remaining.push(arg);
    }
  }
  return [...reordered, ...remaining];
}
