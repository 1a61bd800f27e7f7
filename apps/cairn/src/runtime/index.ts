import type { RuntimeAdapter } from "./types.js";

export {
  DnsLookupError,
  type DnsResolver,
  formatResolver,
  type ResolverAddress,
  type SrvAnswer,
} from "./dns.js";
export type { FetchHandler, Listener, RuntimeAdapter } from "./types.js";

/**
 * Picks the adapter of the runtime we are on, once, at start-up. Each adapter
 * is loaded on demand so no runtime ever loads another's modules.
 */
export async function detectRuntime(): Promise<RuntimeAdapter> {
  const g = globalThis as Record<string, unknown>;
  if (g.Bun !== undefined) return (await import("./bun.js")).bunRuntime;
  if (g.Deno !== undefined) return (await import("./deno.js")).denoRuntime;
  return (await import("./node.js")).nodeRuntime;
}
