/** The etcd release whose behaviour Cairn reproduces (flags, API, `/version`). */
export const ETCD_COMPAT_VERSION = "3.4.23";

/**
 * `cairn --version`, shaped like `etcd --version` (`etcd Version: …` first, so
 * tools that grep for it keep working), then Cairn's own version and the
 * runtime, which the entry knows.
 */
export function versionText(info: { cairnVersion: string; runtime: string }): string {
  return [
    `etcd Version: ${ETCD_COMPAT_VERSION}`,
    `Cairn Version: ${info.cairnVersion}`,
    `Runtime: ${info.runtime}`,
    "",
  ].join("\n");
}
