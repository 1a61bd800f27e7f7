/**
 * The part of YAML that etcd configuration files use: one top-level mapping
 * of `key: value`, where a value is a scalar, a flow sequence `[a, b]` or a
 * block sequence of `- item` lines. Scalars resolve as YAML 1.1 does in the
 * Go library etcd uses (`yes`/`on` are booleans, `0x1f` an integer). Nested
 * mappings (etcd's TLS sections) are recognised and returned as `{}` so the
 * caller can say they are not supported; anything fancier (anchors, tags,
 * multi-line scalars) is refused with a line number rather than misread.
 */

/** A YAML value as the config file reader sees it; integers are bigints to keep 64 bits. */
export type YamlValue = null | boolean | bigint | number | string | YamlValue[] | YamlMap;

/** A nested mapping (contents not kept). */
export interface YamlMap {
  readonly nested: true;
}

/** The file is not YAML this reader understands. */
export class YamlSyntaxError extends Error {
  override readonly name = "YamlSyntaxError";
  readonly code = "YAML_SYNTAX";
}

const TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"]);
const FALSE = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"]);

/** Removes a trailing ` # comment` outside quotes. */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"') i++;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === "#" && (i === 0 || /\s/.test(text[i - 1] ?? ""))) {
      return text.slice(0, i);
    }
  }
  return text;
}

/** Resolves a plain (unquoted) scalar with YAML 1.1's rules for null, bool, int and float. */
function plainScalar(text: string): YamlValue {
  if (text === "" || text === "~" || text === "null" || text === "Null" || text === "NULL") {
    return null;
  }
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  const int = /^([-+]?)(0x[0-9a-fA-F_]+|0b[01_]+|0o?[0-7_]+|[0-9][0-9_]*)$/.exec(text);
  if (int !== null) {
    const body = (int[2] ?? "").replaceAll("_", "");
    const value = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
    return int[1] === "-" ? -value : value;
  }
  if (/^[-+]?(\d[\d_]*)?\.\d+([eE][-+]?\d+)?$|^[-+]?\d[\d_]*(\.\d*)?[eE][-+]?\d+$/.test(text)) {
    return Number(text.replaceAll("_", ""));
  }
  return text;
}

/** Reads one scalar or flow sequence written on a single line. */
function inlineValue(text: string, line: number): YamlValue {
  const value = text.trim();
  const fail = (why: string): never => {
    throw new YamlSyntaxError(`error converting YAML to JSON: yaml: line ${line}: ${why}`);
  };
  if (value.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(value)) fail("found unexpected end of stream");
    try {
      return JSON.parse(value) as string;
    } catch {
      return fail("found unknown escape character");
    }
  }
  if (value.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(value)) fail("found unexpected end of stream");
    return value.slice(1, -1).replaceAll("''", "'");
  }
  if (value.startsWith("[")) {
    if (!value.endsWith("]")) fail("did not find expected ',' or ']'");
    const inner = value.slice(1, -1).trim();
    if (inner === "") return [];
    return inner.split(",").map((item) => inlineValue(item, line));
  }
  if (value.startsWith("{"))
    return value === "{}" ? { nested: true } : fail("flow mappings are not supported");
  if (/^[&*!|>%@`]/.test(value)) fail(`unsupported YAML construct "${value[0]}"`);
  if (/: |:$/.test(value)) fail("mapping values are not allowed in this context");
  return plainScalar(value);
}

/**
 * Parses `text` into its top-level keys, in file order (a key given twice
 * keeps its last value).
 */
export function parseFlatYaml(text: string): Map<string, YamlValue> {
  const result = new Map<string, YamlValue>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let pending: { key: string; line: number; items: YamlValue[]; nested: boolean } | undefined;
  const flush = () => {
    if (pending === undefined) return;
    result.set(
      pending.key,
      pending.nested ? { nested: true } : pending.items.length > 0 ? pending.items : null,
    );
    pending = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1;
    const raw = stripComment(lines[i] ?? "").trimEnd();
    if (raw.trim() === "" || raw === "---") continue;
    if (raw === "...") break;
    if (raw.includes("\t") && /^\s*\t/.test(raw)) {
      throw new YamlSyntaxError(
        `error converting YAML to JSON: yaml: line ${number}: found character that cannot start any token`,
      );
    }
    const indented = /^\s/.test(raw);
    if (indented || raw.startsWith("- ") || raw === "-") {
      if (pending === undefined) {
        throw new YamlSyntaxError(
          `error converting YAML to JSON: yaml: line ${number}: did not find expected key`,
        );
      }
      const item = raw.trim();
      if (!pending.nested && (item === "-" || item.startsWith("- "))) {
        pending.items.push(inlineValue(item.slice(1), number));
      } else {
        // An indented mapping under the key (e.g. client-transport-security).
        pending.nested = true;
      }
      continue;
    }
    flush();
    const match = /^([^\s:#'"[\]{},][^:]*?|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(raw);
    if (match === null) {
      throw new YamlSyntaxError(
        `error converting YAML to JSON: yaml: line ${number}: could not find expected ':'`,
      );
    }
    let key = match[1] ?? "";
    if (key.startsWith('"') || key.startsWith("'")) key = key.slice(1, -1);
    // A repeated key replaces the earlier value, as etcd 3.4's YAML reading does.
    result.delete(key);
    const rest = match[2] ?? "";
    if (rest.trim() === "") {
      pending = { key, line: number, items: [], nested: false };
      continue;
    }
    result.set(key, inlineValue(rest, number));
  }
  flush();
  return result;
}
