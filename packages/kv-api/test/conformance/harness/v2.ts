/**
 * Builders for the exact v2 JSON bodies of spec §2 (field order and omission
 * rules), so expectations read like the spec's examples.
 */
import { goJson, roundTtl } from "./case.js";

/** Extra node fields in their fixed places (spec §2.2). */
export interface NodeExtras {
  /** Emits `"expiration":"<ts>"` (masked timestamp) and, when given, `ttl`. */
  readonly ttl?: number | "none";
  readonly nodes?: readonly string[];
}

/** A file node: key, value, [expiration, ttl], modifiedIndex, createdIndex. */
export function file(key: string, value: string, mi: number, ci = mi, x: NodeExtras = {}): string {
  return `{"key":${goJson(key)},"value":${goJson(value)}${ttlPart(x)},"modifiedIndex":${mi},"createdIndex":${ci}}`;
}

/** A directory node: key, dir, [expiration, ttl], [nodes], modifiedIndex, createdIndex. */
export function dir(key: string, mi: number, ci = mi, x: NodeExtras = {}): string {
  const nodes =
    x.nodes !== undefined && x.nodes.length > 0 ? `,"nodes":[${x.nodes.join(",")}]` : "";
  return `{"key":${goJson(key)},"dir":true${ttlPart(x)}${nodes},"modifiedIndex":${mi},"createdIndex":${ci}}`;
}

/** A deleted node as delete/expire/compareAndDelete events show it (no value). */
export function gone(key: string, mi: number, ci: number, isDir = false): string {
  return `{"key":${goJson(key)}${isDir ? ',"dir":true' : ""},"modifiedIndex":${mi},"createdIndex":${ci}}`;
}

function ttlPart(x: NodeExtras): string {
  if (x.ttl === undefined) return "";
  if (x.ttl === "none") return `,"expiration":"<ts>"`;
  return `,"expiration":"<ts>","ttl":${roundTtl(x.ttl)}`;
}

/** An event body with the encoder's trailing newline (spec §1.3, §2.1). */
export function event(action: string, node: string, prevNode?: string): string {
  return `{"action":"${action}","node":${node}${prevNode !== undefined ? `,"prevNode":${prevNode}` : ""}}\n`;
}

/** An event without trailing newline (one line of a stream, or a nested check). */
export function eventLine(action: string, node: string, prevNode?: string): string {
  return event(action, node, prevNode).slice(0, -1);
}

/** Form body encoding (application/x-www-form-urlencoded). */
export function form(fields: Readonly<Record<string, string>>): string {
  return new URLSearchParams(fields).toString();
}
