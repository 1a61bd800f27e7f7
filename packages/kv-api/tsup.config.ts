import { defineConfig } from "tsup";

export default defineConfig({
  // `node` is the Node-only adapter (`@cairn/kv-api/node`): Go-like serving.
  entry: { index: "src/index.ts", node: "src/node/serve.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
