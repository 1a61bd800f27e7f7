import { defineConfig } from "tsup";

// One entry per driver so each is its own subpath export and is loaded only
// when chosen; runtime built-ins and the native addon stay external.
export default defineConfig({
  entry: {
    index: "src/index.ts",
    "drivers/better-sqlite3": "src/drivers/better-sqlite3.ts",
    "drivers/bun-sqlite": "src/drivers/bun-sqlite.ts",
    "drivers/node-sqlite": "src/drivers/node-sqlite.ts",
  },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  external: ["bun:sqlite", "node:sqlite", "better-sqlite3"],
  // Keep `node:` specifiers: `node:sqlite` only exists with its prefix (Node
  // 22+, Deno), and Deno prefers prefixed built-ins everywhere.
  removeNodeProtocol: false,
});
