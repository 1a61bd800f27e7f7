/**
 * Spec §7: with no option, Cairn keeps etcd's 1000 events, so the 401 edge
 * sits exactly where etcd's does.
 */
import { conformance } from "./harness/case.js";
import { historyCleared } from "./watch-history.js";

conformance("§7 watch history (401), default history", "wd", (kase) => {
  kase("the default history holds exactly 1000 events", historyCleared, { timeoutMs: 60_000 });
});
