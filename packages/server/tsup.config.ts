import { defineConfig } from "tsup";

export default defineConfig({
  // `identity` is its own entry so callers that need only ids (kv-api) load no member code.
  entry: { index: "src/index.ts", identity: "src/identity.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
