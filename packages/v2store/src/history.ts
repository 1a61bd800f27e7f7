import { ErrorCode, V2Error, v2ErrorData } from "./errors.js";
import type { V2Event } from "./types.js";

/**
 * One slot of the event history. Every index the store hands out has exactly
 * one slot (etcd's history is indexed by offset from its oldest event);
 * internal records occupy a slot without an event so they can never match a
 * user watch.
 */
export interface HistoryEntry {
  readonly index: number;
  readonly event: V2Event | undefined;
}

/**
 * The last `capacity` events, as etcd's `EventHistory` (a ring buffer).
 * `scan` answers `waitIndex` watches from it (spec §7).
 */
export class EventHistory {
  private readonly slots: (HistoryEntry | undefined)[];
  private front = 0;
  private count = 0;
  /** Index of the oldest retained entry (0 while empty, as in etcd). */
  startIndex = 0;
  /** Index of the newest retained entry (0 while empty). */
  lastIndex = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    }
    this.slots = new Array(capacity);
  }

  /** Appends an entry, evicting the oldest when full. */
  add(entry: HistoryEntry): void {
    if (this.count < this.capacity) {
      this.slots[(this.front + this.count) % this.capacity] = entry;
      this.count++;
    } else {
      this.slots[this.front] = entry;
      this.front = (this.front + 1) % this.capacity;
    }
    this.lastIndex = entry.index;
    this.startIndex = this.slots[this.front]!.index;
  }

  /** Retained entries, oldest first. */
  entries(): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.slots[(this.front + i) % this.capacity]!);
    return out;
  }

  /**
   * The first retained event at or after `index` that a watch on `key`
   * would see, mirroring etcd's `EventHistory.scan`: exact key, any
   * descendant when recursive, or a delete/expire of a directory whose key is
   * a *string* prefix of `key` (etcd's quirk, kept). Refresh events are
   * skipped; hidden keys are not filtered (spec §6.3).
   * @throws V2Error 401 when `index` is older than the oldest retained event.
   */
  scan(key: string, recursive: boolean, index: number, storeIndex: number): V2Event | undefined {
    if (index < this.startIndex) {
      throw new V2Error(
        v2ErrorData(
          ErrorCode.EventIndexCleared,
          `the requested history has been cleared [${this.startIndex}/${index}]`,
          storeIndex,
        ),
      );
    }
    if (index > this.lastIndex || this.count === 0) return undefined;
    const prefix = key.endsWith("/") ? key : `${key}/`;
    for (let i = index - this.startIndex; i < this.count; i++) {
      const e = this.slots[(this.front + i) % this.capacity]!.event;
      if (e === undefined || e.refresh === true) continue;
      const k = e.node.key;
      let ok = k === key || (recursive && k.startsWith(prefix));
      if (
        !ok &&
        (e.action === "delete" || e.action === "expire") &&
        e.prevNode !== undefined &&
        e.prevNode.dir === true
      ) {
        ok = key.startsWith(e.prevNode.key);
      }
      if (ok) return e;
    }
    return undefined;
  }
}
