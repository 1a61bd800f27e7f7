/**
 * Value parsers for each flag kind, as zod schemas from the raw string to the
 * typed value. The issue messages are the Go error texts etcd 3.4 prints after
 * `invalid value "x" for flag -f: ` (Go's flag and strconv packages, etcd's
 * `pkg/flags` and `pkg/types`), so the one-line errors read like etcd's.
 */
import { z } from "zod";
import type { FlagSpec } from "./flags.js";
import { parseUrlList, UrlSyntaxError } from "./urls.js";

const PARSE_ERROR = "parse error";
const RANGE_ERROR = "value out of range";
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads an unsigned integer with Go's `strconv.ParseUint(s, 0, 64)` syntax:
 * decimal, `0x`/`0b`/`0o` prefixes, a leading `0` for octal, and `_` between
 * digits. Returns a Go error text when it is not one.
 */
export function parseGoUnsigned(text: string): bigint | typeof PARSE_ERROR {
  const forms: [RegExp, number][] = [
    [/^0[xX](_?[0-9a-fA-F])+$/, 16],
    [/^0[bB](_?[01])+$/, 2],
    [/^0[oO](_?[0-7])+$/, 8],
    [/^0(_?[0-7])+$/, 8],
    [/^[1-9](_?[0-9])*$/, 10],
    [/^0$/, 10],
  ];
  for (const [pattern, base] of forms) {
    if (!pattern.test(text)) continue;
    let digits = text.replaceAll("_", "");
    if (base !== 10) digits = digits.replace(/^0[xXbBoO]?/, "");
    if (digits === "") return 0n;
    let value = 0n;
    for (const d of digits) value = value * BigInt(base) + BigInt(Number.parseInt(d, base));
    return value;
  }
  return PARSE_ERROR;
}

/** Go `uint`/`uint64` flag value, limited to what a JS number holds exactly. */
const uintSchema = z.string().transform((text, ctx): number => {
  const value = parseGoUnsigned(text);
  if (value === PARSE_ERROR) {
    ctx.addIssue({ code: "custom", message: PARSE_ERROR });
    return z.NEVER;
  }
  // Go accepts up to 2^64-1; no setting of Cairn's is meaningful beyond 2^53.
  if (value > UINT64_MAX || value > SAFE_MAX) {
    ctx.addIssue({ code: "custom", message: RANGE_ERROR });
    return z.NEVER;
  }
  return Number(value);
});

/** Go `int64` flag value (optional sign), limited to what a JS number holds exactly. */
const intSchema = z.string().transform((text, ctx): number => {
  const negative = text.startsWith("-");
  const unsigned = parseGoUnsigned(/^[+-]/.test(text) ? text.slice(1) : text);
  if (unsigned === PARSE_ERROR) {
    ctx.addIssue({ code: "custom", message: PARSE_ERROR });
    return z.NEVER;
  }
  if (unsigned > INT64_MAX + (negative ? 1n : 0n) || unsigned > SAFE_MAX) {
    ctx.addIssue({ code: "custom", message: RANGE_ERROR });
    return z.NEVER;
  }
  return negative ? -Number(unsigned) : Number(unsigned);
});

/** Go `strconv.ParseBool`. */
const boolSchema = z.string().transform((text, ctx): boolean => {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  ctx.addIssue({ code: "custom", message: PARSE_ERROR });
  return z.NEVER;
});

/**
 * etcd's `UniqueURLs` flag: checked and sorted. An empty value is one of the
 * flag's allowed exceptions and leaves the previous (default) list in place,
 * which the caller sees as `undefined`.
 */
const urlsSchema = z.string().transform((text, ctx): string[] | undefined => {
  if (text === "") return undefined;
  try {
    return parseUrlList(text).map((u) => u.href);
  } catch (error) {
    if (!(error instanceof UrlSyntaxError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
    return z.NEVER;
  }
});

/**
 * `--cors` in etcd 3.4: exactly `*`, or a list of URLs with the URL flags'
 * rules (so `http://a.example` needs its port); de-duplicated and sorted.
 */
const corsSchema = z.string().transform((text, ctx): string[] => {
  if (text === "*") return ["*"];
  try {
    return [...new Set(parseUrlList(text).map((u) => u.href))];
  } catch (error) {
    if (!(error instanceof UrlSyntaxError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
    return z.NEVER;
  }
});

/**
 * etcd's `UniqueStringsValue`: comma-separated, de-duplicated, sorted. Empty
 * elements are dropped (etcd keeps an empty string, which means the same as
 * nothing for `--cors` and `--log-outputs`).
 */
const stringsSchema = z
  .string()
  .transform((text) => [...new Set(text.split(",").filter((s) => s !== ""))].sort());

/** A flag's typed value. */
export type FlagValue = string | number | boolean | string[] | undefined;

/** The zod schema that turns a raw string into the value of `flag`. */
export function valueSchema(flag: FlagSpec): z.ZodType<FlagValue, string> {
  switch (flag.kind) {
    case "string":
      return z.string();
    case "uint":
      return uintSchema;
    case "int":
      return intSchema;
    case "bool":
      return boolSchema;
    case "urls":
      return urlsSchema;
    case "strings":
      return stringsSchema;
    case "cors":
      return corsSchema;
    case "enum": {
      const choices = flag.choices ?? [];
      // etcd's SelectiveStringValue says only "invalid value".
      return z.string().refine((text) => choices.includes(text), { message: "invalid value" });
    }
  }
}

/** Parses `text` as `flag`'s value; returns the value or the Go error text. */
export function parseFlagValue(
  flag: FlagSpec,
  text: string,
): { ok: true; value: FlagValue } | { ok: false; error: string } {
  const result = valueSchema(flag).safeParse(text);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: result.error.issues[0]?.message ?? PARSE_ERROR };
}
