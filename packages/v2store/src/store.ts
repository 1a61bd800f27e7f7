import { ErrorCode, V2Error, type V2ErrorData, v2ErrorData } from "./errors.js";
import { type HeapItem, TtlHeap } from "./heap.js";
import { EventHistory } from "./history.js";
import type {
  ApplyResult,
  Micros,
  V2Action,
  V2Event,
  V2Node,
  V2Request,
  V2StoreStats,
  WriteRequest,
} from "./types.js";

/** Expirations before 2000-01-01 mean "permanent", as in etcd's `internalCreate`. */
const MIN_EXPIRE_TIME: Micros = 946_684_800_000_000;

/** Default number of events kept for `waitIndex` watches (etcd's fixed 1000). */
export const DEFAULT_HISTORY_SIZE = 1000;

/** A node of the tree. Files have `value`, directories `children`. */
class TreeNode implements HeapItem {
  heapPos = -1;
  constructor(
    public path: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: TreeNode | undefined,
    public value: string | undefined,
    public children: Map<string, TreeNode> | undefined,
    public expireTime: Micros | undefined,
  ) {}

  get isDir(): boolean {
    return this.children !== undefined;
  }
}

/** Options of a {@link V2Store}. */
export interface V2StoreOptions {
  /** Events kept for `waitIndex` (default 1000, as etcd; larger keeps a longer history). */
  historySize?: number;
}

/** What a watch delivers to: return `false` when the consumer cannot take more (it is then dropped and `closed` called). */
export interface WatchListener {
  event(event: V2Event): boolean;
  closed?(): void;
}

/** Options of {@link V2Store.watch}. */
export interface WatchOptions {
  recursive?: boolean;
  /** Keep delivering after the first event (`stream=true`). */
  stream?: boolean;
  /** `waitIndex`; 0/absent = the next index. */
  sinceIndex?: number;
}

/**
 * A registered watch. When the history already holds a matching event it is
 * returned as `immediate` and, as in etcd, nothing is registered (even for a
 * stream watch).
 */
export interface StoreWatch {
  /** Store index at registration: the `X-Etcd-Index` of the watch response. */
  readonly startIndex: number;
  readonly immediate?: V2Event;
  /** Stops delivery; safe to call more than once. */
  cancel(): void;
}

interface Watcher {
  readonly recursive: boolean;
  readonly stream: boolean;
  readonly sinceIndex: number;
  readonly listener: WatchListener;
  removed: boolean;
  readonly key: string;
}

function emptyStats(): V2StoreStats {
  return {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
    watchers: 0,
  };
}

/**
 * Go's `path.Clean` for absolute paths: collapses `//`, resolves `.` and
 * `..`, drops a trailing slash. Keys reaching the store are already clean;
 * this guards requests decoded from elsewhere.
 */
export function cleanPath(p: string): string {
  if (p === "/" || p === "") return "/";
  if (
    p.charCodeAt(0) === 47 &&
    !p.includes("//") &&
    !p.includes("/./") &&
    !p.includes("/../") &&
    !p.endsWith("/") &&
    !p.endsWith("/.") &&
    !p.endsWith("/..")
  ) {
    return p;
  }
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** `ceil((expiration - now) / 1 s)` with Go's truncating division (spec §2.2). */
function ttlOf(expireTime: Micros, now: Micros): number {
  const d = expireTime - now;
  let ttl = Math.trunc(d / 1_000_000);
  if (d % 1_000_000 > 0) ttl++;
  return ttl;
}

function isHiddenName(path: string): boolean {
  return path.charCodeAt(path.lastIndexOf("/") + 1) === 95; // '_'
}

/** etcd's watcher-hub `isHidden`: a `_` segment below the watched path. */
function isHiddenBelow(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  return cleanPath(`/${keyPath.slice(watchPath.length)}`).includes("/_");
}

function byKey(a: V2Node, b: V2Node): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The etcd v2 store: a deterministic state machine. Writes go through
 * {@link apply} (in log order on every member); reads ({@link get},
 * {@link watch}) are local. Behaviour follows etcd 3.4.23's `v2store`
 * operation by operation, quirks included (spec §4–§7).
 */
export class V2Store {
  private root = new TreeNode("/", 0, 0, undefined, undefined, new Map(), undefined);
  private internal = new Map<string, string>();
  private readonly ttlHeap = new TtlHeap<TreeNode>();
  private history: EventHistory;
  private readonly watchers = new Map<string, Watcher[]>();
  private watcherCount = 0;
  private readonly counters = emptyStats();
  /**
   * etcd counts some failures as successes in `/v2/stats/store`: its
   * deferred counters look at a variable that those early returns never set
   * (root checks of update/CAS/delete, CAD on a directory or a failed
   * compare, update of a directory with a value). Kept for parity.
   */
  private failureCountsAsSuccess = false;
  /** The store index: bumped by every successful mutation and internal record (spec §1.4). */
  private currentIndex = 0;

  constructor(options: V2StoreOptions = {}) {
    this.history = new EventHistory(options.historySize ?? DEFAULT_HISTORY_SIZE);
  }

  /** The current store index (`X-Etcd-Index` of reads). */
  get index(): number {
    return this.currentIndex;
  }

  /** Capacity of the event history. */
  get historySize(): number {
    return this.history.capacity;
  }

  /** Oldest index a `waitIndex` watch can still ask for (0 while the history is empty). */
  get historyStartIndex(): number {
    return this.history.startIndex;
  }

  /** Operation counters (a copy), `watchers` = currently registered watchers. */
  stats(): V2StoreStats {
    return { ...this.counters, watchers: this.watcherCount };
  }

  /**
   * Counts a failed get without doing one. etcd performs an internal "is auth
   * enabled?" get on every keys request, which shows up in `getsFail`
   * (spec §10); API layers call this to keep `/v2/stats/store` comparable.
   */
  countAuthCheck(): void {
    this.counters.getsFail++;
  }

  /** The earliest expiration of any node, or undefined when no node has a TTL. */
  nextExpiration(): Micros | undefined {
    return this.ttlHeap.top()?.expireTime;
  }

  /** An internal record (see {@link InternalRequest}), or undefined. */
  internalValue(key: string): string | undefined {
    return this.internal.get(key);
  }

  /** All internal records, sorted by key. */
  internalEntries(): [string, string][] {
    return [...this.internal.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /**
   * Applies one request. Never throws for a request of a valid shape: store
   * errors come back as `error` and change nothing.
   */
  apply(req: V2Request): ApplyResult {
    switch (req.method) {
      case "PUT":
        return this.put(req);
      case "POST":
        return this.result(
          () =>
            this.create(req.key, req.dir === true, req.value ?? "", true, req.expiration, req.time),
          "create",
        );
      case "DELETE":
        if ((req.prevIndex ?? 0) > 0 || (req.prevValue ?? "") !== "") {
          return this.result(
            () => this.compareAndDelete(req.key, req.prevValue ?? "", req.prevIndex ?? 0, req.time),
            "compareAndDelete",
          );
        }
        return this.result(
          () => this.delete(req.key, req.dir === true, req.recursive === true, req.time),
          "delete",
        );
      case "SYNC":
        return { expired: this.deleteExpired(req.time) };
      case "QGET":
        try {
          return { event: this.get(req.key, req) };
        } catch (error) {
          if (error instanceof V2Error) return { error: error.data };
          throw error;
        }
      case "INTERNAL":
        this.currentIndex++;
        if (req.value === null) this.internal.delete(req.key);
        else this.internal.set(req.key, req.value);
        this.history.add({ index: this.currentIndex, event: undefined });
        return {};
    }
  }

  private put(req: WriteRequest): ApplyResult {
    const prevValue = req.prevValue ?? "";
    const prevIndex = req.prevIndex ?? 0;
    const value = req.value ?? "";
    const refresh = req.refresh === true;
    const compareAndSwap = () =>
      this.result(
        () =>
          this.compareAndSwap(
            req.key,
            prevValue,
            prevIndex,
            value,
            refresh,
            req.expiration,
            req.time,
          ),
        "compareAndSwap",
      );
    // Dispatch exactly as etcd's applierV2store.Put (spec §4).
    if (req.prevExist !== undefined) {
      if (req.prevExist) {
        if (prevIndex === 0 && prevValue === "") {
          return this.result(
            () => this.update(req.key, value, refresh, req.expiration, req.time),
            "update",
          );
        }
        return compareAndSwap();
      }
      return this.result(
        () => this.create(req.key, req.dir === true, value, false, req.expiration, req.time),
        "create",
      );
    }
    if (prevIndex > 0 || prevValue !== "") {
      return compareAndSwap();
    }
    return this.result(
      () => this.set(req.key, req.dir === true, value, refresh, req.expiration, req.time),
      "set",
    );
  }

  private result(op: () => V2Event | V2ErrorData, kind: V2Action): ApplyResult {
    this.failureCountsAsSuccess = false;
    const r = op();
    const isEvent = "action" in r;
    const ok = isEvent || this.failureCountsAsSuccess;
    const c = this.counters;
    switch (kind) {
      case "set":
        if (ok) c.setsSuccess++;
        else c.setsFail++;
        break;
      case "create":
        if (ok) c.createSuccess++;
        else c.createFail++;
        break;
      case "update":
        if (ok) c.updateSuccess++;
        else c.updateFail++;
        break;
      case "compareAndSwap":
        if (ok) c.compareAndSwapSuccess++;
        else c.compareAndSwapFail++;
        break;
      case "delete":
        if (ok) c.deleteSuccess++;
        else c.deleteFail++;
        break;
      case "compareAndDelete":
        if (ok) c.compareAndDeleteSuccess++;
        else c.compareAndDeleteFail++;
        break;
      default:
        break;
    }
    return isEvent ? { event: r } : { error: r };
  }

  // ---- reads -------------------------------------------------------------

  /**
   * `GET /v2/keys/<key>` (spec §5.1): a file, or a directory with one level
   * of children (`recursive` for the subtree), hidden children omitted,
   * `sorted` by key. `now` renders `ttl`.
   * @throws V2Error 100 / 104.
   */
  get(key: string, options: { recursive?: boolean; sorted?: boolean; time: Micros }): V2Event {
    const path = cleanPath(key);
    const n = this.internalGet(path);
    if (!(n instanceof TreeNode)) {
      this.counters.getsFail++;
      throw new V2Error(n);
    }
    this.counters.getsSuccess++;
    const recursive = options.recursive === true;
    const sorted = options.sorted === true;
    const node: V2Node = {
      key: n.path,
      modifiedIndex: n.modifiedIndex,
      createdIndex: n.createdIndex,
    };
    if (n.children !== undefined) {
      node.dir = true;
      const nodes: V2Node[] = [];
      for (const child of n.children.values()) {
        if (isHiddenName(child.path)) continue;
        nodes.push(this.repr(child, recursive, sorted, options.time));
      }
      if (sorted) nodes.sort(byKey);
      if (nodes.length > 0) node.nodes = nodes;
    } else {
      node.value = n.value ?? "";
    }
    this.setExpiration(node, n, options.time);
    return { action: "get", node, etcdIndex: this.currentIndex };
  }

  /**
   * Registers a watch (spec §7). With a `sinceIndex` in the retained history
   * the first matching event is returned as `immediate`; otherwise the
   * listener receives matching events as requests are applied.
   * @throws V2Error 401 when `sinceIndex` is older than the retained history.
   */
  watch(key: string, options: WatchOptions, listener: WatchListener): StoreWatch {
    const path = cleanPath(key);
    const recursive = options.recursive === true;
    const stream = options.stream === true;
    const sinceIndex =
      options.sinceIndex === undefined || options.sinceIndex === 0
        ? this.currentIndex + 1
        : options.sinceIndex;
    const startIndex = this.currentIndex;
    const found = this.history.scan(path, recursive, sinceIndex, startIndex);
    if (found !== undefined) {
      return { startIndex, immediate: { ...found, etcdIndex: startIndex }, cancel: () => {} };
    }
    const w: Watcher = { recursive, stream, sinceIndex, listener, removed: false, key: path };
    let list = this.watchers.get(path);
    if (list === undefined) {
      list = [];
      this.watchers.set(path, list);
    }
    list.push(w);
    this.watcherCount++;
    return { startIndex, cancel: () => this.removeWatcher(w) };
  }

  private removeWatcher(w: Watcher): void {
    if (w.removed) return;
    w.removed = true;
    this.watcherCount--;
    const list = this.watchers.get(w.key);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.watchers.delete(w.key);
  }

  // ---- snapshot ----------------------------------------------------------

  /**
   * A compact image of the replicated state: tree, internal records, index,
   * history and counters (watchers are local and not included). JSON text.
   */
  snapshot(): string {
    const enc = (n: TreeNode): unknown[] => {
      const name = n.path.slice(n.path.lastIndexOf("/") + 1);
      const body = n.children === undefined ? (n.value ?? "") : [...n.children.values()].map(enc);
      return [name, n.createdIndex, n.modifiedIndex, n.expireTime ?? 0, body];
    };
    return JSON.stringify({
      v: 1,
      index: this.currentIndex,
      root: (enc(this.root)[4] as unknown[]) ?? [],
      internal: [...this.internal.entries()],
      historySize: this.history.capacity,
      history: this.history.entries().map((h) => (h.event === undefined ? h.index : h.event)),
      stats: this.counters,
    });
  }

  /**
   * Replaces the whole state with a snapshot image. Registered watchers are
   * dropped (`closed` is called), as a restore invalidates what they waited
   * for. The history keeps this store's configured capacity.
   * @throws V2CodecError-like `Error` when the image is not valid.
   */
  restore(image: string): void {
    const data = JSON.parse(image) as {
      v: number;
      index: number;
      root: unknown[];
      internal: [string, string][];
      history: (number | V2Event)[];
      stats: V2StoreStats;
    };
    if (data.v !== 1 || !Number.isInteger(data.index) || !Array.isArray(data.root)) {
      throw new Error("not a v2 store snapshot image");
    }
    for (const list of [...this.watchers.values()]) {
      for (const w of [...list]) {
        this.removeWatcher(w);
        w.listener.closed?.();
      }
    }
    const heap = this.ttlHeap;
    while (heap.top() !== undefined) heap.remove(heap.top()!);
    const root = new TreeNode("/", 0, 0, undefined, undefined, new Map(), undefined);
    const dec = (parent: TreeNode, item: unknown): void => {
      const [name, ci, mi, exp, body] = item as [string, number, number, number, unknown];
      const path = parent.path === "/" ? `/${name}` : `${parent.path}/${name}`;
      const node =
        typeof body === "string"
          ? new TreeNode(path, ci, mi, parent, body, undefined, exp === 0 ? undefined : exp)
          : new TreeNode(path, ci, mi, parent, undefined, new Map(), exp === 0 ? undefined : exp);
      parent.children!.set(name, node);
      if (node.expireTime !== undefined) heap.push(node);
      if (Array.isArray(body)) for (const c of body) dec(node, c);
    };
    for (const item of data.root) dec(root, item);
    this.root = root;
    this.internal = new Map(data.internal);
    this.currentIndex = data.index;
    const history = new EventHistory(this.history.capacity);
    for (const h of data.history) {
      if (typeof h === "number") history.add({ index: h, event: undefined });
      else history.add({ index: h.node.modifiedIndex, event: h });
    }
    this.history = history;
    Object.assign(this.counters, data.stats, { watchers: 0 });
  }

  // ---- internals (etcd's store.go, operation by operation) ---------------

  private err(code: number, cause: string, index = this.currentIndex): V2ErrorData {
    return v2ErrorData(code, cause, index);
  }

  /** An error etcd's stats count as a success (see `failureCountsAsSuccess`). */
  private errCountedAsSuccess(code: number, cause: string): V2ErrorData {
    this.failureCountsAsSuccess = true;
    return v2ErrorData(code, cause, this.currentIndex);
  }

  /** Walks to a node; 100 names the first missing component, 104 the file in the way. */
  private internalGet(path: string): TreeNode | V2ErrorData {
    if (path === "/") return this.root;
    let curr = this.root;
    let start = 1;
    for (;;) {
      const slash = path.indexOf("/", start);
      const name = slash === -1 ? path.slice(start) : path.slice(start, slash);
      if (curr.children === undefined) return this.err(ErrorCode.NotDir, curr.path);
      const child = curr.children.get(name);
      if (child === undefined) {
        return this.err(ErrorCode.KeyNotFound, slash === -1 ? path : path.slice(0, slash));
      }
      curr = child;
      if (slash === -1) return curr;
      start = slash + 1;
    }
  }

  private setExpiration(node: V2Node, n: TreeNode, now: Micros): void {
    if (n.expireTime === undefined) return;
    node.expiration = n.expireTime;
    const ttl = ttlOf(n.expireTime, now);
    if (ttl !== 0) node.ttl = ttl;
  }

  private repr(n: TreeNode, recursive: boolean, sorted: boolean, now: Micros): V2Node {
    if (n.children !== undefined) {
      const node: V2Node = {
        key: n.path,
        dir: true,
        modifiedIndex: n.modifiedIndex,
        createdIndex: n.createdIndex,
      };
      this.setExpiration(node, n, now);
      if (!recursive) return node;
      const nodes: V2Node[] = [];
      for (const child of n.children.values()) {
        if (isHiddenName(child.path)) continue;
        nodes.push(this.repr(child, true, sorted, now));
      }
      if (sorted) nodes.sort(byKey);
      if (nodes.length > 0) node.nodes = nodes;
      return node;
    }
    const node: V2Node = {
      key: n.path,
      value: n.value ?? "",
      modifiedIndex: n.modifiedIndex,
      createdIndex: n.createdIndex,
    };
    this.setExpiration(node, n, now);
    return node;
  }

  private set(
    path0: string,
    dir: boolean,
    value0: string,
    refresh: boolean,
    expiration: Micros | undefined,
    now: Micros,
  ): V2Event | V2ErrorData {
    const path = cleanPath(path0);
    const n = this.internalGet(path);
    const missing = !(n instanceof TreeNode);
    if (missing && n.errorCode !== ErrorCode.KeyNotFound) return n;
    let value = value0;
    if (refresh) {
      if (missing) return n;
      value = n.value ?? "";
    }
    // internalCreate sets prevNode from the node it replaces: `n` itself.
    const e = this.internalCreate(
      path,
      dir,
      value,
      false,
      true,
      expiration,
      now,
      "set",
      missing ? undefined : n,
    );
    if (!("action" in e)) return e;
    if (refresh) {
      e.refresh = true;
      this.history.add({ index: e.node.modifiedIndex, event: e });
    } else {
      this.notify(e);
    }
    return e;
  }

  private create(
    path: string,
    dir: boolean,
    value: string,
    unique: boolean,
    expiration: Micros | undefined,
    now: Micros,
  ): V2Event | V2ErrorData {
    const e = this.internalCreate(path, dir, value, unique, false, expiration, now, "create");
    if ("action" in e) this.notify(e);
    return e;
  }

  private internalCreate(
    path0: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expiration: Micros | undefined,
    now: Micros,
    action: V2Action,
    existingAtPath?: TreeNode,
  ): V2Event | V2ErrorData {
    const nextIndex = this.currentIndex + 1;
    let path = path0;
    if (unique) path = `${path}/${String(nextIndex).padStart(20, "0")}`;
    // A caller that found the node at `path` (already clean) saves the walk:
    // its parent is the directory and every directory above it exists (the
    // root itself is refused just below, as before).
    if (existingAtPath === undefined) path = cleanPath(path);
    if (path === "/") return this.err(ErrorCode.RootReadOnly, "/");
    const expireTime =
      expiration === undefined || expiration < MIN_EXPIRE_TIME ? undefined : expiration;
    const cut = path.lastIndexOf("/");
    const dirName = cut === 0 ? "/" : path.slice(0, cut);
    const name = path.slice(cut + 1);

    // Walk to the parent, creating missing directories with the new index
    // (they can only be created when nothing later in this call can fail).
    let d = existingAtPath?.parent ?? this.root;
    if (existingAtPath === undefined && dirName !== "/") {
      const parts = dirName.slice(1).split("/");
      // Check first so that a 104 leaves no directories behind.
      let probe: TreeNode | undefined = this.root;
      for (const part of parts) {
        const child: TreeNode | undefined = probe.children!.get(part);
        if (child === undefined) break;
        if (child.children === undefined) {
          // etcd's internalCreate counts a setsFail of its own here, on top
          // of the caller's counter.
          this.counters.setsFail++;
          return this.err(ErrorCode.NotDir, child.path);
        }
        probe = child;
      }
      for (const part of parts) {
        let child = d.children!.get(part);
        if (child === undefined) {
          const p = d.path === "/" ? `/${part}` : `${d.path}/${part}`;
          child = new TreeNode(p, nextIndex, nextIndex, d, undefined, new Map(), undefined);
          d.children!.set(part, child);
        }
        d = child;
      }
    }

    const node: V2Node = { key: path, modifiedIndex: nextIndex, createdIndex: nextIndex };
    const e: V2Event = { action, node, etcdIndex: nextIndex };
    const existing = d.children!.get(name);
    if (existing !== undefined) {
      if (!replace) return this.err(ErrorCode.NodeExist, path);
      if (existing.children !== undefined) return this.err(ErrorCode.NotFile, path);
      e.prevNode = this.repr(existing, false, false, now);
      this.removeNode(existing, undefined);
    }
    let n: TreeNode;
    if (!dir) {
      node.value = value;
      n = new TreeNode(path, nextIndex, nextIndex, d, value, undefined, expireTime);
    } else {
      node.dir = true;
      n = new TreeNode(path, nextIndex, nextIndex, d, undefined, new Map(), expireTime);
    }
    d.children!.set(name, n);
    if (expireTime !== undefined) {
      this.ttlHeap.push(n);
      this.setExpiration(node, n, now);
    }
    this.currentIndex = nextIndex;
    return e;
  }

  private update(
    path0: string,
    value0: string,
    refresh: boolean,
    expiration: Micros | undefined,
    now: Micros,
  ): V2Event | V2ErrorData {
    const path = cleanPath(path0);
    if (path === "/") return this.errCountedAsSuccess(ErrorCode.RootReadOnly, "/");
    const nextIndex = this.currentIndex + 1;
    const n = this.internalGet(path);
    if (!(n instanceof TreeNode)) return n;
    if (n.isDir && value0.length !== 0) return this.errCountedAsSuccess(ErrorCode.NotFile, path);
    const value = refresh ? (n.value ?? "") : value0;
    const node: V2Node = { key: path, modifiedIndex: nextIndex, createdIndex: n.createdIndex };
    const e: V2Event = {
      action: "update",
      node,
      prevNode: this.repr(n, false, false, now),
      etcdIndex: nextIndex,
    };
    if (n.isDir) {
      // etcd's node.Write refuses directories, so the stored modifiedIndex
      // stays while the event shows the new one (spec §5.4 quirk).
      node.dir = true;
    } else {
      n.value = value;
      n.modifiedIndex = nextIndex;
      node.value = value;
    }
    this.updateTtl(n, expiration);
    this.setExpiration(node, n, now);
    this.currentIndex = nextIndex;
    if (refresh) {
      e.refresh = true;
      this.history.add({ index: nextIndex, event: e });
    } else {
      this.notify(e);
    }
    return e;
  }

  private updateTtl(n: TreeNode, expiration: Micros | undefined): void {
    const exp = expiration === 0 ? undefined : expiration;
    if (n.expireTime !== undefined) {
      if (exp === undefined) {
        n.expireTime = undefined;
        this.ttlHeap.remove(n);
        return;
      }
      n.expireTime = exp;
      this.ttlHeap.update(n);
      return;
    }
    if (exp === undefined) return;
    n.expireTime = exp;
    this.ttlHeap.push(n);
  }

  private compareFailCause(n: TreeNode, prevValue: string, prevIndex: number): string | undefined {
    const indexMatch = prevIndex === 0 || n.modifiedIndex === prevIndex;
    const valueMatch = prevValue === "" || (n.value ?? "") === prevValue;
    if (indexMatch && valueMatch) return undefined;
    if (indexMatch) return `[${prevValue} != ${n.value ?? ""}]`;
    if (valueMatch) return `[${prevIndex} != ${n.modifiedIndex}]`;
    return `[${prevValue} != ${n.value ?? ""}] [${prevIndex} != ${n.modifiedIndex}]`;
  }

  private compareAndSwap(
    path0: string,
    prevValue: string,
    prevIndex: number,
    value0: string,
    refresh: boolean,
    expiration: Micros | undefined,
    now: Micros,
  ): V2Event | V2ErrorData {
    const path = cleanPath(path0);
    if (path === "/") return this.errCountedAsSuccess(ErrorCode.RootReadOnly, "/");
    const n = this.internalGet(path);
    if (!(n instanceof TreeNode)) return n;
    if (n.isDir) return this.err(ErrorCode.NotFile, path);
    const cause = this.compareFailCause(n, prevValue, prevIndex);
    if (cause !== undefined) return this.err(ErrorCode.TestFailed, cause);
    const value = refresh ? (n.value ?? "") : value0;
    this.currentIndex++;
    const idx = this.currentIndex;
    const e: V2Event = {
      action: "compareAndSwap",
      node: { key: path, value, modifiedIndex: idx, createdIndex: n.createdIndex },
      prevNode: this.repr(n, false, false, now),
      etcdIndex: idx,
    };
    n.value = value;
    n.modifiedIndex = idx;
    this.updateTtl(n, expiration);
    this.setExpiration(e.node, n, now);
    if (refresh) {
      e.refresh = true;
      this.history.add({ index: idx, event: e });
    } else {
      this.notify(e);
    }
    return e;
  }

  private compareAndDelete(
    path0: string,
    prevValue: string,
    prevIndex: number,
    now: Micros,
  ): V2Event | V2ErrorData {
    const path = cleanPath(path0);
    const n = this.internalGet(path);
    if (!(n instanceof TreeNode)) return n;
    // etcd has no root check here: the root is a directory, and its internal
    // path trims to an empty cause (spec §8.1 "prefixes are stripped").
    if (n.isDir) return this.errCountedAsSuccess(ErrorCode.NotFile, path === "/" ? "" : path);
    const cause = this.compareFailCause(n, prevValue, prevIndex);
    if (cause !== undefined) return this.errCountedAsSuccess(ErrorCode.TestFailed, cause);
    this.currentIndex++;
    const idx = this.currentIndex;
    const e: V2Event = {
      action: "compareAndDelete",
      node: { key: path, modifiedIndex: idx, createdIndex: n.createdIndex },
      prevNode: this.repr(n, false, false, now),
      etcdIndex: idx,
    };
    this.removeNode(n, (p) => this.notifyWatchers(e, p, true));
    this.notify(e);
    return e;
  }

  private delete(
    path0: string,
    dir0: boolean,
    recursive: boolean,
    now: Micros,
  ): V2Event | V2ErrorData {
    const path = cleanPath(path0);
    if (path === "/") return this.errCountedAsSuccess(ErrorCode.RootReadOnly, "/");
    const dir = dir0 || recursive;
    const n = this.internalGet(path);
    if (!(n instanceof TreeNode)) return n;
    if (n.isDir) {
      if (!dir) return this.err(ErrorCode.NotFile, path);
      if (n.children!.size !== 0 && !recursive) return this.err(ErrorCode.DirNotEmpty, path);
    }
    const idx = this.currentIndex + 1;
    const e: V2Event = {
      action: "delete",
      node: { key: path, modifiedIndex: idx, createdIndex: n.createdIndex },
      prevNode: this.repr(n, false, false, now),
      etcdIndex: idx,
    };
    if (n.isDir) e.node.dir = true;
    this.removeNode(n, (p) => this.notifyWatchers(e, p, true));
    this.currentIndex = idx;
    this.notify(e);
    return e;
  }

  /** etcd's node.Remove after its dir/recursive checks (done by the callers): children first, then the node; `onRemoved` per path. */
  private removeNode(n: TreeNode, onRemoved: ((path: string) => void) | undefined): void {
    const name = n.path.slice(n.path.lastIndexOf("/") + 1);
    if (n.children !== undefined) {
      for (const child of [...n.children.values()]) this.removeNode(child, onRemoved);
    }
    if (n.parent !== undefined && n.parent.children!.get(name) === n) {
      n.parent.children!.delete(name);
      onRemoved?.(n.path);
      if (n.expireTime !== undefined) this.ttlHeap.remove(n);
    }
  }

  private deleteExpired(cutoff: Micros): number {
    let expired = 0;
    for (;;) {
      const n = this.ttlHeap.top();
      if (n === undefined || (n.expireTime ?? 0) > cutoff) break;
      this.currentIndex++;
      const idx = this.currentIndex;
      const e: V2Event = {
        action: "expire",
        node: { key: n.path, modifiedIndex: idx, createdIndex: n.createdIndex },
        prevNode: this.repr(n, false, false, cutoff),
        etcdIndex: idx,
      };
      if (n.isDir) e.node.dir = true;
      this.ttlHeap.remove(n);
      this.removeNode(n, (p) => this.notifyWatchers(e, p, true));
      this.counters.expireCount++;
      expired++;
      this.notify(e);
    }
    return expired;
  }

  // ---- watcher hub (etcd's watcher_hub.go) -------------------------------

  private notify(e: V2Event): void {
    this.history.add({ index: e.node.modifiedIndex, event: e });
    if (this.watcherCount === 0) return;
    const key = e.node.key;
    this.notifyWatchers(e, "/", false);
    let start = 1;
    while (start < key.length) {
      const slash = key.indexOf("/", start);
      const end = slash === -1 ? key.length : slash;
      this.notifyWatchers(e, key.slice(0, end), false);
      start = end + 1;
    }
  }

  private notifyWatchers(e: V2Event, nodePath: string, deleted: boolean): void {
    const list = this.watchers.get(nodePath);
    if (list === undefined) return;
    const originalPath = e.node.key === nodePath;
    if (!originalPath && isHiddenBelow(nodePath, e.node.key)) return;
    // Finished watchers are marked here and taken out of the list in one
    // pass afterwards: one splice each made a fan-out quadratic.
    let finished = false;
    for (const w of [...list]) {
      if (w.removed) continue;
      if ((w.recursive || originalPath || deleted) && e.node.modifiedIndex >= w.sinceIndex) {
        const accepted = w.listener.event(e);
        if ((!accepted || !w.stream) && !w.removed) {
          // (the listener may have cancelled it itself meanwhile)
          w.removed = true;
          this.watcherCount--;
          finished = true;
        }
        if (!accepted) w.listener.closed?.();
      }
    }
    if (finished) {
      const current = this.watchers.get(nodePath);
      if (current === undefined) return;
      const live = current.filter((w) => !w.removed);
      if (live.length === 0) this.watchers.delete(nodePath);
      else this.watchers.set(nodePath, live);
    }
  }
}
