import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** An outside program found on this machine. */
export interface Program {
  readonly name: string;
  readonly path: string;
}

/** Looks `name` up on PATH and in the extra absolute `candidates`. */
export function findProgram(name: string, candidates: readonly string[] = []): Program | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const paths = [...dirs.map((d) => join(d, name)), ...candidates, `/usr/sbin/${name}`];
  for (const path of paths) {
    try {
      accessSync(path, constants.X_OK);
      return { name, path };
    } catch {
      // not here; try the next place
    }
  }
  return undefined;
}

/**
 * Finds `name`, or prints one loud line saying which tests are skipped for its
 * absence. Use with `describe.skipIf(!program)`: a skip is never silent.
 */
export function programOrSkip(name: string, whatNeedsIt: string): Program | undefined {
  const program = findProgram(name);
  if (program === undefined) {
    console.warn(
      `!!! SKIPPED: ${whatNeedsIt} needs '${name}', which is not installed ` +
        "(scripts/ensure-tools.sh installs it on Debian as root).",
    );
  }
  return program;
}
