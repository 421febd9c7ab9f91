import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two test files at a time on the 2-core machines: the suite is mostly waiting on servers,
    // fsyncs and child processes, so this halves its time (the files pass in any order and in
    // parallel: each has its own servers, ports and temp dirs).
    maxWorkers: 2,
  },
});
