/**
 * The conformance matrix: the same cases (conformance/cases.ts) on every
 * driver under its own runtime. Node runs them here with better-sqlite3;
 * Bun (bun:sqlite) and Deno (node:sqlite) run them through runner.ts against
 * the built dist, and each is one test here that shows the runner's output
 * when it fails.
 */

import { fileURLToPath } from "node:url";
import { type Runtime, runtimeCommand, startProcess, stopAll, tempDir } from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import * as storage from "../src/index.js";
import { cases } from "./conformance/cases.ts";

afterAll(stopAll);

describe("storage conformance [node, better-sqlite3]", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const dir = tempDir("cairn-storage-conf-");
      try {
        await c.run({ mod: storage, driver: "better-sqlite3", dir: dir.path });
      } finally {
        dir.remove();
      }
    });
  }
});

const runner = fileURLToPath(new URL("./conformance/runner.ts", import.meta.url));

const matrix: ReadonlyArray<readonly [Runtime, storage.DriverName]> = [
  ["bun", "bun:sqlite"],
  ["deno", "node:sqlite"],
];

for (const [runtime, driver] of matrix) {
  it(`storage conformance [${runtime}, ${driver}]: all ${cases.length} cases pass on the built dist`, async () => {
    const { command, args } = runtimeCommand(runtime);
    const child = startProcess(command, {
      args: [...args, runner, "--driver", driver],
      name: `conformance-${runtime}`,
    });
    const code = await Promise.race([
      child.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 90_000)),
    ]);
    if (code === "timeout") await child.stop("SIGKILL");
    const output = `${child.stdout()}${child.stderr()}`;
    expect(output, output).toContain(`[${runtime}, ${driver}] ${cases.length} passed, 0 failed`);
    expect(code, output).toBe(0);
  }, 120_000);
}
