import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    // Stopping in-process members waits for their disks, which CI shares.
    hookTimeout: 30_000,
  },
});
