/**
 * The 401 cases of spec §7/§8, shared by the small-history file (Cairn keeps
 * 50 events) and the default-history file (1000 on both, as etcd).
 */
import type { CaseContext, CaseFn } from "./harness/case.js";
import { send } from "./harness/http.js";
import { event, file } from "./harness/v2.js";

const EXTRA = 10;

/** `count` unrecorded writes of value x to the case key /w, `parallel` at a time. */
export async function bulk(c: CaseContext, count: number, parallel = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const res = await send(c.target.url, {
        method: "PUT",
        path: c.keys("/w"),
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "value=x",
      });
      if (res.status >= 300)
        throw new Error(`bulk write failed: ${res.status} ${res.body.toString()}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** A waitIndex older than the retained history → 401 with the oldest index. */
export const historyCleared: CaseFn = async (c) => {
  const history = c.target.historySize;
  const first = c.i(1);
  await bulk(c, history + EXTRA);
  const current = await c.index();
  c.eq(current, c.base + history + EXTRA, "index after the writes");
  // Re-base so the rest compares equal between targets whose history
  // sizes differ; the history-dependent numbers are checked exactly
  // here and masked in the transcript.
  c.base = current - EXTRA;
  const oldest = current - history + 1;
  const mask = (b: string) =>
    b
      .replaceAll(`[${oldest}/`, "[OLDEST/")
      .replaceAll(`/${first}]`, "/FIRST]")
      .replaceAll(`/${oldest - 1}]`, "/OLDEST_1]")
      .replaceAll(`:${oldest}`, ":OLDEST")
      .replaceAll(`:${oldest - 1}`, ":OLDEST_1");
  const cleared = await c.get(c.keys(`/w?wait=true&waitIndex=${first}`), {
    mask,
    label: "GET /w?wait=true&waitIndex=FIRST",
  });
  c.err(
    cleared,
    400,
    401,
    "The event in requested index is outdated and cleared",
    "the requested history has been cleared [OLDEST/FIRST]",
    current,
  );
  const edge = await c.get(c.keys(`/w?wait=true&waitIndex=${oldest - 1}`), {
    mask,
    label: "GET /w?wait=true&waitIndex=OLDEST_1",
  });
  c.err(
    edge,
    400,
    401,
    "The event in requested index is outdated and cleared",
    "the requested history has been cleared [OLDEST/OLDEST_1]",
    current,
  );
  const w = await c.watch(
    c.keys(`/w?wait=true&waitIndex=${oldest}`),
    5_000,
    "GET /w?wait=true&waitIndex=OLDEST",
  );
  c.eq(
    await w.body(5_000, mask),
    event("set", file(c.k("/w"), "x", oldest, oldest), file(c.k("/w"), "x", oldest - 1, oldest - 1))
      .replaceAll(`:${oldest}`, ":OLDEST")
      .replaceAll(`:${oldest - 1}`, ":OLDEST_1"),
    "the oldest retained event",
  );
  c.eq(
    w.stream.headers.find(([h]) => h === "x-etcd-index")?.[1],
    String(current),
    "X-Etcd-Index of a history hit",
  );
};

/** The history counts the events of every key, not only the watched one. */
export const historyCountsAllKeys: CaseFn = async (c) => {
  // After history writes elsewhere, an early event of this case is gone.
  await c.put(c.keys("/mine"), "value=1");
  const first = c.i(1);
  await bulk(c, c.target.historySize);
  const current = await c.index();
  c.base = current;
  const oldest = current - c.target.historySize + 1;
  const res = await c.get(c.keys(`/mine?wait=true&waitIndex=${first}`), {
    label: "GET /mine?wait=true&waitIndex=FIRST",
    mask: (b) => b.replaceAll(`[${oldest}/${first}]`, "[OLDEST/FIRST]"),
  });
  c.err(
    res,
    400,
    401,
    "The event in requested index is outdated and cleared",
    "the requested history has been cleared [OLDEST/FIRST]",
    current,
  );
};
