/**
 * Shared helpers for the UI tests: a real RequestLog event builder, frame waits, key codes, ANSI strip.
 */
import type { RequestEvent, RequestLog } from "../../src/log/events.js";
import type { ServerInfo } from "../../src/ui/app.js";

let next = 0;

export function startRequest(log: RequestLog, over: Partial<RequestEvent> = {}): RequestEvent {
  return log.start({ id: `req-${++next}`, source: "s3", method: "GET", operation: "GetObject", repo: "repo", ref: "main", path: "a.txt", ...over });
}

export const info: ServerInfo = {
  endpoint: "http://127.0.0.1:9000",
  accessKeyId: "AKIATESTKEY",
  secretAccessKey: "TEST/SECRET/KEY",
  tryCommand: (secret) => `AWS_ACCESS_KEY_ID=AKIATESTKEY AWS_SECRET_ACCESS_KEY=${secret} aws --endpoint-url http://127.0.0.1:9000 s3 ls s3://repo/main/`,
  dataDir: "/tmp/lakes3-data",
  mode: "dev",
  startedAt: Date.now(),
};

/** Longer than one capped frame (~67 ms). */
/**
 * One frame's time (the viewer draws at most ~15 a second). Only for what must NOT change (a
 * paused list, a render budget) and between key presses; a check that something appears polls
 * (`expect.poll(frame)`).
 */
export const nextFrame = (ms = 120): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const keys = { up: "\u001B[A", down: "\u001B[B", pageUp: "\u001B[5~", pageDown: "\u001B[6~", home: "\u001B[H", enter: "\r", escape: "\u001B", end: "\u001B[F", ctrlC: "\u0003", backspace: "\u007F" };

export function plain(frame: string | undefined): string {
  return (frame ?? "").replace(/\u001B\[[0-9;]*m/g, "");
}

export async function type(stdin: { write(data: string): void }, ...inputs: string[]): Promise<void> {
  for (const input of inputs) {
    stdin.write(input);
    await nextFrame(20);
  }
}
