/** Shared fixtures of the auth unit tests: AWS's documented example key pair and request builder. */
import { S3Error } from "../../src/protocol/errors.js";
import type { AuthInput, Credentials } from "../../src/auth/types.js";

export const KEY = "AKIAIOSFODNN7EXAMPLE";
export const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const lookup = (id: string): Credentials | undefined => (id === KEY ? { accessKeyId: KEY, secretAccessKey: SECRET } : undefined);

/** An AuthInput for `method target` (target = raw path with optional ?query), header names lower-cased. */
export function request(method: string, target: string, headers: Record<string, string | string[]>): AuthInput {
  const q = target.indexOf("?");
  const lower: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    lower[name] = [...(lower[name] ?? []), ...(Array.isArray(v) ? v : [v])];
  }
  return { method, rawPath: q < 0 ? target : target.slice(0, q), rawQuery: q < 0 ? "" : target.slice(q + 1), headers: lower };
}

/** The S3Error `fn` throws (fails the test if it throws nothing or something else). */
export function s3err(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error("expected an S3Error");
}
