import { defineConfig } from "tsup";

export default defineConfig({
  // `index` is the runtime-neutral library (the Hono app, the embedded store,
  // token GC, rate limiting); `node` the Node listener; `main` the binary.
  entry: { index: "src/index.ts", node: "src/node.ts", main: "src/main.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
