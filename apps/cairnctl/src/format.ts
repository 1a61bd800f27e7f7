/**
 * etcdctl's three output formats (etcdctl-v2.md §4). `json` is the Go
 * client's `Response` struct marshalled by Go's `encoding/json`, so key order,
 * `null`s and string escaping follow Go, not the server's bytes.
 */

import type { KeysResponse, Node } from "@cairn/client";

/** Go `encoding/json` string escaping (HTML-safe: `<`, `>`, `&` as `\u003c`…). */
export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += "\\ufffd";
      }
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += "\\ufffd";
      continue;
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x3c:
        out += "\\u003c";
        break;
      case 0x3e:
        out += "\\u003e";
        break;
      case 0x26:
        out += "\\u0026";
        break;
      case 0x2028:
        out += "\\u2028";
        break;
      case 0x2029:
        out += "\\u2029";
        break;
      default:
        out += c < 0x20 ? `\\u00${c.toString(16).padStart(2, "0")}` : s[i]!;
    }
  }
  return `${out}"`;
}

/** One node as the Go client's `Node` struct marshals it. */
export function goNodeJson(n: Node | undefined): string {
  if (n === undefined) return "null";
  let out = `{"key":${goJsonString(n.key)}`;
  if (n.dir === true) out += `,"dir":true`;
  out += `,"value":${goJsonString(n.value ?? "")}`;
  out += `,"nodes":${n.nodes === undefined ? "null" : `[${n.nodes.map(goNodeJson).join(",")}]`}`;
  out += `,"createdIndex":${n.createdIndex ?? 0},"modifiedIndex":${n.modifiedIndex ?? 0}`;
  if (n.expiration !== undefined) out += `,"expiration":${goJsonString(n.expiration)}`;
  if (n.ttl !== undefined && n.ttl !== 0) out += `,"ttl":${n.ttl}`;
  return `${out}}`;
}

/** A response as `-o json` prints it (without the newline). */
export function goResponseJson(r: KeysResponse): string {
  return `{"action":${goJsonString(r.action)},"node":${goNodeJson(r.node)},"prevNode":${goNodeJson(r.prevNode)}}`;
}

/**
 * etcdctl's `printResponseKey`: the text for one response in `format`, or
 * `undefined` for an unknown format (the caller reports it on stderr).
 */
export function formatResponse(r: KeysResponse, format: string): string | undefined {
  switch (format) {
    case "simple":
      return r.action !== "delete"
        ? `${r.node.value ?? ""}\n`
        : `PrevNode.Value: ${r.prevNode?.value ?? ""}\n`;
    case "extended": {
      let out = `Key: ${r.node.key}\nCreated-Index: ${r.node.createdIndex ?? 0}\nModified-Index: ${r.node.modifiedIndex ?? 0}\n`;
      if (r.prevNode !== undefined) out += `PrevNode.Value: ${r.prevNode.value ?? ""}\n`;
      out += `TTL: ${r.node.ttl ?? 0}\nIndex: ${r.index}\n`;
      if (r.action !== "delete") out += `\n${r.node.value ?? ""}\n`;
      return out;
    }
    case "json":
      return `${goResponseJson(r)}\n`;
    default:
      return undefined;
  }
}
