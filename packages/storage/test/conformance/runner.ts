/**
 * Runs the conformance cases against the BUILT package (`dist`) under
 * whatever runtime executes this file (Bun or Deno; the vitest suite spawns
 * it), with that runtime's default driver unless `--driver <name>` is given.
 * Prints one line per case, then `N passed, N failed`; exits 1 on failure.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cases, type Storage } from "./cases.ts";

// The built package: what users of @cairn/storage actually load. (A computed
// specifier, so typechecking does not depend on dist having been built.)
const distEntry = new URL("../../dist/index.js", import.meta.url).href;
const mod = (await import(distEntry)) as Storage;
const argv = process.argv.slice(2);
const flag = argv.indexOf("--driver");
const driver = (
  flag >= 0 ? argv[flag + 1] : mod.defaultDriver()
) as Storage["defaultDriver"] extends () => infer D ? D : never;
const label = `[${mod.runtime}, ${driver}]`;

// node_modules/.bin/{bun,deno} are shell wrappers: if the test kills the
// wrapper on a timeout, leave rather than linger as an orphan.
const parent = process.ppid;
const watchdog = setInterval(() => {
  if (process.ppid !== parent) process.exit(3);
}, 200);

let passed = 0;
let failed = 0;
console.log(`storage conformance ${label}: ${cases.length} cases`);
for (const c of cases) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-storage-conf-"));
  const started = performance.now();
  try {
    await c.run({ mod, driver, dir });
    passed++;
    console.log(`ok   ${label} ${c.name} (${(performance.now() - started).toFixed(0)} ms)`);
  } catch (error) {
    failed++;
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.log(`FAIL ${label} ${c.name}\n${detail.replace(/^/gm, "     ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${label} ${passed} passed, ${failed} failed`);
clearInterval(watchdog);
process.exitCode = failed === 0 ? 0 : 1;
