/**
 * What users of the built package load: the entry never loads a driver
 * statically (a runtime must never load another runtime's driver), and the
 * drivers keep their `node:` specifiers (`node:sqlite` has no bare form).
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { defaultDriver, openDatabase, runtime } from "../src/index.js";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const staticImports = (file: string) =>
  [
    ...readFileSync(join(dist, file), "utf8").matchAll(
      /^(?:import|export)\b[^;]*?from\s+"([^"]+)"/gms,
    ),
  ].map((m) => m[1]);

describe("packaging (node)", () => {
  it("dist/index.js loads no driver statically; each driver file imports its own module only", () => {
    const entry = staticImports("index.js");
    expect(entry.filter((s) => /sqlite/.test(s ?? ""))).toEqual([]);
    expect(staticImports("drivers/better-sqlite3.js")).toContain("better-sqlite3");
    expect(staticImports("drivers/bun-sqlite.js")).toContain("bun:sqlite");
    expect(staticImports("drivers/node-sqlite.js")).toContain("node:sqlite");
    for (const f of [
      "drivers/better-sqlite3.js",
      "drivers/bun-sqlite.js",
      "drivers/node-sqlite.js",
    ]) {
      const mods = staticImports(f).filter((s) => !(s ?? "").startsWith("."));
      expect(mods, f).toHaveLength(1);
    }
  });

  it("Node picks better-sqlite3, and a driver of another runtime is a typed error", async () => {
    expect(runtime).toBe("node");
    expect(defaultDriver()).toBe("better-sqlite3");
    expect(defaultDriver("bun")).toBe("bun:sqlite");
    expect(defaultDriver("deno")).toBe("node:sqlite");
    const dir = tempDir("cairn-storage-pkg-");
    try {
      await expect(
        openDatabase(join(dir.path, "x.db"), { driver: "bun:sqlite" }),
      ).rejects.toMatchObject({
        name: "DriverUnavailableError",
        code: "ERR_STORAGE_DRIVER_UNAVAILABLE",
      });
    } finally {
      dir.remove();
    }
  });
});
