/**
 * Spec §7 and §8 (error 401): a watcher whose waitIndex fell out of the event
 * history. etcd keeps the last 1000 events; the Cairn server of this file
 * keeps 50 (its historySize option), so the edge is reached quickly on both.
 */
import { conformance } from "./harness/case.js";
import { historyCleared, historyCountsAllKeys } from "./watch-history.js";

conformance(
  "§7 watch history (401), Cairn history 50",
  "wh",
  (kase) => {
    kase(
      "a waitIndex older than the retained history → 401 with the oldest index",
      historyCleared,
      {
        timeoutMs: 60_000,
      },
    );
    kase("the history counts events of every key", historyCountsAllKeys, { timeoutMs: 60_000 });
  },
  { cairn: { historySize: 50 } },
);
