import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A directory under the system temp dir, removed by `remove()`. */
export interface TempDir {
  readonly path: string;
  remove(): void;
}

/** Creates a fresh, empty temporary directory named after `prefix`. */
export function tempDir(prefix = "cairn-test-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
