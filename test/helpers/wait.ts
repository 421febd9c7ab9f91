/**
 * Polling instead of fixed sleeps: `waitFor(check)` calls `check` until it returns a value other
 * than undefined/false (or stops throwing), then resolves that value; after `timeoutMs` it rejects
 * with `message` and the last error, so a wait that never comes true fails the test with a reason.
 */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false | undefined>> {
  const { timeoutMs = 10_000, intervalMs = 10, message = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${reason}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
