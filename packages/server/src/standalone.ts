/**
 * What a member's data directory holds, and the two operations that turn a
 * copy of it into a new one-member cluster: `backupMember` (etcdctl's v2
 * `backup`) and `forceNewCluster` (etcd's `--force-new-cluster`, its
 * `restartAsStandaloneNode`).
 */

import { join } from "node:path";
import {
  type ConfChange,
  ConfChangeType,
  decodeConfChange,
  type Entry,
  EntryType,
  encodeConfChange,
} from "@cairn/raft";
import {
  type BackupProgress,
  type BackupResult,
  backupDatabase,
  type DriverName,
  type RaftStorage,
} from "@cairn/storage";
import { formatId } from "./identity.js";

/** The member's table of its own identity (member id, cluster id). */
export const META_TABLE = "cairn_member_meta";

/** The data file of the member whose `--data-dir` is `dataDir`. */
export function memberDataFile(dataDir: string): string {
  return join(dataDir, "member", "cairn.db");
}

/** A random non-zero 64-bit id (etcd's backup draws new ids from its id generator). */
function randomId(): bigint {
  const words = new Uint32Array(2);
  for (;;) {
    crypto.getRandomValues(words);
    const id = (BigInt(words[0]!) << 32n) | BigInt(words[1]!);
    if (id !== 0n) return id;
  }
}

/** Options of {@link backupMember}. */
export interface BackupMemberOptions {
  driver?: DriverName;
  onProgress?: (progress: BackupProgress) => void;
}

/** What {@link backupMember} wrote. */
export interface BackupMemberResult extends BackupResult {
  readonly file: string;
  /** The identities the copy was given. */
  readonly memberId: bigint;
  readonly clusterId: bigint;
}

/**
 * Copies the member data of `dataDir` (running or stopped) into `backupDir`
 * as one consistent state, and gives the copy a new random member id and
 * cluster id, as etcdctl's v2 backup rewrites the WAL metadata: a member
 * started from the copy cannot talk its way back into the old cluster (the
 * peers refuse a foreign cluster id), and the operator starts it with
 * `--force-new-cluster`. Keys, indexes, TTLs, the log and the snapshot are
 * copied as they are.
 */
export async function backupMember(
  dataDir: string,
  backupDir: string,
  options: BackupMemberOptions = {},
): Promise<BackupMemberResult> {
  const memberId = randomId();
  const clusterId = randomId();
  const file = memberDataFile(backupDir);
  const result = await backupDatabase(memberDataFile(dataDir), file, {
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    finish(copy) {
      const put = copy.prepare(`UPDATE ${META_TABLE} SET value = ? WHERE key = ?`);
      put.run(formatId(memberId), "member-id");
      put.run(formatId(clusterId), "cluster-id");
    },
  });
  return { ...result, file, memberId, clusterId };
}

/**
 * etcd's `--force-new-cluster` on a member with data: the log keeps every
 * committed entry (so every key, index and TTL), loses the uncommitted tail,
 * and gains committed configuration changes that remove every other member
 * and add this one (with `peerUrls`) when it is not a member. Applying them
 * at start-up leaves raft with this member as its only voter and the
 * membership records under `/0/members` with this member alone; it then
 * leads a one-member cluster. Returns the members removed.
 *
 * The ids are found as etcd's getIDs does: the snapshot's configuration,
 * then every configuration change committed after it.
 */
export function forceNewCluster(
  storage: RaftStorage,
  self: bigint,
  peerUrls: readonly string[],
): bigint[] {
  const { hardState } = storage.initialState();
  const snapshot = storage.snapshot();
  const ids = new Set<bigint>([...snapshot.confState.voters, ...snapshot.confState.learners]);
  for (let lo = snapshot.index + 1; lo <= hardState.commit; ) {
    const batch = storage.entries(lo, hardState.commit + 1, 4 * 1024 * 1024);
    for (const e of batch) {
      if (e.type !== EntryType.ConfChange) continue;
      const cc = decodeConfChange(e.data);
      if (cc.type === ConfChangeType.RemoveNode) ids.delete(cc.nodeId);
      else if (cc.type !== ConfChangeType.UpdateNode) ids.add(cc.nodeId);
    }
    lo += batch.length;
  }
  const removed = [...ids].filter((id) => id !== self).sort((a, b) => (a < b ? -1 : 1));
  // Self first: the raft core never removes its last voter, so removing the
  // others before adding this member (etcd's order) would leave one behind.
  const changes: ConfChange[] = ids.has(self)
    ? []
    : [
        {
          type: ConfChangeType.AddNode,
          nodeId: self,
          context: new TextEncoder().encode(JSON.stringify({ peerURLs: peerUrls })),
        },
      ];
  for (const nodeId of removed) {
    changes.push({ type: ConfChangeType.RemoveNode, nodeId, context: new Uint8Array(0) });
  }
  // Appending at commit + 1 truncates the uncommitted tail first. With no
  // change to make the member already was the only voter, and its tail is
  // what a one-member cluster commits on any restart.
  if (changes.length === 0) return removed;
  const entries: Entry[] = changes.map((cc, i) => ({
    index: hardState.commit + 1 + i,
    term: hardState.term,
    type: EntryType.ConfChange,
    data: encodeConfChange(cc),
  }));
  storage.append({
    hardState: { ...hardState, commit: hardState.commit + entries.length },
    entries,
  });
  return removed;
}
