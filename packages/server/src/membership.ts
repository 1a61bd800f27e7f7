import type { V2Store } from "@cairn/v2store";
import { formatId, parseId } from "./identity.js";

/**
 * Membership lives in the v2 store's internal namespace, in the same records
 * etcd 3.4 keeps under `/0` (spec bootstrap §2: they consume v2 indexes, so a
 * fresh N-member cluster shows index 2N+1). Keeping it in the replicated store
 * means snapshots carry it and every member derives the same view at the same
 * index.
 */
export const MEMBERS_PREFIX = "/0/members/";
/** Ids that were removed; their traffic is refused forever. */
export const REMOVED_PREFIX = "/0/removed_members/";
/** The cluster version record. */
export const VERSION_KEY = "/0/version";

/** One member as the members API shows it. */
export interface MemberInfo {
  readonly id: bigint;
  /** Empty until the member has started and published its attributes. */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

/** The record key of a member's raft attributes (peer URLs). */
export function raftAttributesKey(id: bigint): string {
  return `${MEMBERS_PREFIX}${formatId(id)}/raftAttributes`;
}

/** The record key of a member's published attributes (name, client URLs). */
export function attributesKey(id: bigint): string {
  return `${MEMBERS_PREFIX}${formatId(id)}/attributes`;
}

/** The record key marking `id` as removed. */
export function removedKey(id: bigint): string {
  return `${REMOVED_PREFIX}${formatId(id)}`;
}

/** The value of a raft attributes record (etcd's `RaftAttributes` JSON). */
export function raftAttributesValue(peerURLs: readonly string[]): string {
  return JSON.stringify({ peerURLs });
}

/** The value of an attributes record (etcd's `Attributes` JSON). */
export function attributesValue(name: string, clientURLs: readonly string[]): string {
  return JSON.stringify({ name, clientURLs });
}

/** Every current member, sorted by id, read from the store's internal records. */
export function readMembers(store: V2Store): MemberInfo[] {
  const byId = new Map<bigint, { peerURLs: string[]; name: string; clientURLs: string[] }>();
  for (const [key, value] of store.internalEntries()) {
    if (!key.startsWith(MEMBERS_PREFIX)) continue;
    const rest = key.slice(MEMBERS_PREFIX.length);
    const slash = rest.indexOf("/");
    if (slash < 0) continue;
    const id = parseId(rest.slice(0, slash));
    const field = rest.slice(slash + 1);
    const m = byId.get(id) ?? { peerURLs: [], name: "", clientURLs: [] };
    const parsed = JSON.parse(value) as {
      peerURLs?: string[];
      name?: string;
      clientURLs?: string[];
    };
    if (field === "raftAttributes") m.peerURLs = parsed.peerURLs ?? [];
    if (field === "attributes") {
      m.name = parsed.name ?? "";
      m.clientURLs = parsed.clientURLs ?? [];
    }
    byId.set(id, m);
  }
  return [...byId]
    .filter(([, m]) => m.peerURLs.length > 0)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, m]) => ({ id, ...m }));
}

/** True when `id` was removed from the cluster. */
export function isRemovedMember(store: V2Store, id: bigint): boolean {
  return store.internalValue(removedKey(id)) !== undefined;
}

/** Renders members the way etcd's members endpoints do (id as hex). */
export function memberJson(m: MemberInfo): {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
} {
  return {
    id: formatId(m.id),
    name: m.name,
    peerURLs: [...m.peerURLs],
    clientURLs: [...m.clientURLs],
  };
}
