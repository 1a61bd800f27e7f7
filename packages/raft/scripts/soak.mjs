// Long soak of the Raft simulator: `pnpm --filter @cairn/raft soak [--seeds N] [--steps N] [--first N]`.
// Runs the same simulation as the CI test, with many more seeds, through vitest.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
function flag(name, fallback) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v <= 0) {
    console.error(`soak: --${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
}
const seeds = flag("seeds", 20000);
const steps = flag("steps", 600);
const first = flag("first", 1_000_000);
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const vitest = join(
  dirname(createRequire(join(pkg, "package.json")).resolve("vitest/package.json")),
  "vitest.mjs",
);
console.error(`soak: ${seeds} seeds per cluster size, ${steps} steps each, first seed ${first}`);
const r = spawnSync(
  process.execPath,
  [vitest, "run", "test/simulator.test.ts", "--testTimeout", "86400000"],
  {
    cwd: pkg,
    stdio: "inherit",
    env: {
      ...process.env,
      RAFT_SIM_SEEDS: String(seeds),
      RAFT_SIM_STEPS: String(steps),
      RAFT_SIM_FIRST_SEED: String(first),
    },
  },
);
process.exit(r.status ?? 1);
