import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Stories start and stop member processes; a starved CI host runs them
    // several times slower than a calm one.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
