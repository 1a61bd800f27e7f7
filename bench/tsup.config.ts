import { defineConfig } from "tsup";

// One bundle per suite, so `main` loads only the suite it is asked for.
export default defineConfig({
  entry: ["src/main.ts", "src/suites/*.ts"],
  format: ["esm"],
  dts: false,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
