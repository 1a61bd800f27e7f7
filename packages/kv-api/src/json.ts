import { formatRfc3339Nano, type V2ErrorData, type V2Event, type V2Node } from "@cairn/v2store";

// Go's encoding/json string escaping, which etcd's bodies are made of
// (spec §1.3): `"` and `\` escaped, \n \r \t short forms, other control
// characters as \u00XX, `<` `>` `&` U+2028 U+2029 as \u escapes, invalid
// UTF-8 as the literal text \ufffd. Values decoded from the wire keep each
// invalid byte as a lone low surrogate (see form.ts), which becomes \ufffd.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

const HEX = "0123456789abcdef";

/** A JSON string literal exactly as Go's encoding/json writes it. */
export function goString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      rep =
        c === 10 ? "\\n" : c === 13 ? "\\r" : c === 9 ? "\\t" : `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 34) rep = '\\"';
    else if (c === 92) rep = "\\\\";
    else if (c === 60) rep = "\\u003c";
    else if (c === 62) rep = "\\u003e";
    else if (c === 38) rep = "\\u0026";
    else if (c === 0x2028) rep = "\\u2028";
    else if (c === 0x2029) rep = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++; // a valid pair: written raw
        continue;
      }
      rep = "\\ufffd";
    } else if (c >= 0xdc00 && c <= 0xdfff) rep = "\\ufffd";
    if (rep !== undefined) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return `${out + s.slice(last)}"`;
}

/** A node in etcd's field order with its omission rules (spec §2.2). */
export function renderNode(n: V2Node): string {
  let out = "{";
  let sep = "";
  if (n.key !== "/") {
    out += `"key":${goString(n.key)}`;
    sep = ",";
  }
  if (n.value !== undefined) {
    out += `${sep}"value":${goString(n.value)}`;
    sep = ",";
  }
  if (n.dir === true) {
    out += `${sep}"dir":true`;
    sep = ",";
  }
  if (n.expiration !== undefined) {
    out += `${sep}"expiration":"${formatRfc3339Nano(n.expiration)}"`;
    sep = ",";
  }
  if (n.ttl !== undefined && n.ttl !== 0) {
    out += `${sep}"ttl":${n.ttl}`;
    sep = ",";
  }
  if (n.nodes !== undefined && n.nodes.length > 0) {
    out += `${sep}"nodes":[`;
    for (let i = 0; i < n.nodes.length; i++) {
      if (i > 0) out += ",";
      out += renderNode(n.nodes[i]!);
    }
    out += "]";
    sep = ",";
  }
  if (n.modifiedIndex !== 0) {
    out += `${sep}"modifiedIndex":${n.modifiedIndex}`;
    sep = ",";
  }
  if (n.createdIndex !== 0) out += `${sep}"createdIndex":${n.createdIndex}`;
  return `${out}}`;
}

/** An event body line: `{"action":…,"node":…,"prevNode":…}\n` (spec §2.1). */
export function renderEvent(e: V2Event, noValue = false): string {
  if (noValue) return `{"action":"${e.action}"}\n`;
  let out = `{"action":"${e.action}","node":${renderNode(e.node)}`;
  if (e.prevNode !== undefined) out += `,"prevNode":${renderNode(e.prevNode)}`;
  return `${out}}\n`;
}

/** A v2 error body line (spec §8.1); `cause` omitted when empty. */
export function renderError(e: V2ErrorData): string {
  let out = `{"errorCode":${e.errorCode},"message":${goString(e.message)}`;
  if (e.cause !== "") out += `,"cause":${goString(e.cause)}`;
  return `${out},"index":${e.index}}\n`;
}

/** `{"message":"…"}` without a newline: the members/stats error shape (spec §9). */
export function renderMessage(message: string): string {
  return `{"message":${goString(message)}}`;
}
