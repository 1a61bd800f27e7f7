/**
 * The data file is held by SQLite's exclusive lock (an OS lock the kernel
 * drops when the holder dies): a second member on the same data dir is
 * refused with a clear error and changes nothing, whatever runtime each runs
 * on (Bun's SQLite takes no OS lock: the holder's pid in the lock file covers
 * it), and a SIGKILLed holder leaves no stale lock behind.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Runtime,
  runtimeCommand,
  startProcess,
  stopAll,
  tempDir,
  waitFor,
} from "@cairn/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { openStorage } from "../src/index.js";

const holder = fileURLToPath(new URL("./crash/hold.mjs", import.meta.url));
const tryOpen = fileURLToPath(new URL("./crash/try-open.mjs", import.meta.url));

afterAll(stopAll);

describe("lock: one live member per data file", () => {
  for (const runtime of ["node", "bun", "deno"] as Runtime[]) {
    it(`a file held by a live ${runtime} process is refused (node, better-sqlite3), and free once the holder is killed`, async () => {
      const dir = tempDir("cairn-storage-lock-");
      const path = join(dir.path, "cairn.db");
      try {
        const { command, args } = runtimeCommand(runtime);
        const proc = startProcess(command, {
          args: [...args, holder, path],
          name: `hold-${runtime}`,
        });
        await waitFor(() => proc.stdout().includes("holding") || proc.hasExited(), {
          timeoutMs: 30_000,
          what: `the ${runtime} holder`,
        });
        expect(proc.hasExited(), proc.stderr()).toBe(false);
        const before = readFileSync(path);
        const started = Date.now();
        // A busy timeout far past the bound below: waiting it out would show,
        // however slowly a starved machine runs the refusal itself.
        await expect(openStorage(path, { busyTimeoutMs: 120_000 })).rejects.toMatchObject({
          name: "DataDirLockedError",
          code: "ERR_STORAGE_LOCKED",
          message: expect.stringContaining(path),
        });
        // Refused at once (no waiting out a busy timeout) and without writing.
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(readFileSync(path).equals(before)).toBe(true);

        // Kill the process that holds the lock (not only a wrapper script around it).
        const pid = Number(/holding (\d+)/.exec(proc.stdout())?.[1]);
        process.kill(pid, "SIGKILL");
        await proc.stop("SIGKILL");
        await waitFor(
          () => {
            try {
              process.kill(pid, 0);
              return false;
            } catch {
              return true;
            }
          },
          { timeoutMs: 5_000, what: `holder ${pid} to die` },
        );
        const s = await openStorage(path);
        try {
          expect(s.lastIndex()).toBe(1);
        } finally {
          s.close();
        }
      } finally {
        dir.remove();
      }
    }, 60_000);
  }

  for (const runtime of ["bun", "deno"] as Runtime[]) {
    it(`a ${runtime} process is refused a file held by a live node process`, async () => {
      const dir = tempDir("cairn-storage-lock-");
      const path = join(dir.path, "cairn.db");
      try {
        const holding = startProcess(process.execPath, { args: [holder, path], name: "hold-node" });
        await waitFor(() => holding.stdout().includes("holding") || holding.hasExited(), {
          timeoutMs: 30_000,
          what: "the node holder",
        });
        expect(holding.hasExited(), holding.stderr()).toBe(false);
        const { command, args } = runtimeCommand(runtime);
        const opener = startProcess(command, {
          args: [...args, tryOpen, path],
          name: `try-${runtime}`,
        });
        await opener.exited;
        expect(opener.stdout().trim(), opener.stderr()).toBe(
          `refused ERR_STORAGE_LOCKED ${runtime}`,
        );
        await holding.stop("SIGKILL");
        const again = startProcess(command, {
          args: [...args, tryOpen, path],
          name: `try-${runtime}`,
        });
        await again.exited;
        expect(again.stdout().trim(), again.stderr()).toBe(`opened ${runtime}`);
      } finally {
        dir.remove();
      }
    }, 60_000);
  }

  it("a second open in the same process is refused too", async () => {
    const dir = tempDir("cairn-storage-lock-");
    try {
      const path = join(dir.path, "cairn.db");
      const s = await openStorage(path);
      await expect(openStorage(join(dir.path, ".", "cairn.db"))).rejects.toMatchObject({
        code: "ERR_STORAGE_LOCKED",
      });
      s.close();
      (await openStorage(path)).close();
    } finally {
      dir.remove();
    }
  });
});
