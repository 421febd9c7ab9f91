/**
 * External tools a test needs (aws CLI, boto3, rclone, s3cmd, tmux, npm). Where one is missing the
 * test is skipped with a printed reason — unless LAKES3_REQUIRE_CLIENTS=1 (set by .ci/run), where a
 * missing tool fails the test instead, so CI cannot turn green with the client tests skipped.
 */
import { execFileSync } from "node:child_process";
import { it } from "vitest";

export const REQUIRE_CLIENTS = process.env["LAKES3_REQUIRE_CLIENTS"] === "1";

/** True when `cmd args` runs and exits 0. */
export function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * `it` when the tool is there; otherwise a skipped test with the reason printed, or (with
 * LAKES3_REQUIRE_CLIENTS=1) a test that fails with the reason.
 */
export function itWithTool(available: boolean, reason: string): typeof it {
  if (available) return it;
  if (REQUIRE_CLIENTS) {
    const failing = ((name: string) =>
      it(name, () => {
        throw new Error(`required client missing (LAKES3_REQUIRE_CLIENTS=1): ${reason}`);
      })) as unknown as typeof it;
    return failing;
  }
  console.log(`skipping: ${reason}`);
  return it.skip;
}
