/**
 * How CLI commands talk to a running server: its URL as a person types it, and one caller of its
 * lakeFS REST API (/api/v1, HTTP Basic with the configured key pair).
 */
import { CliExit } from "./exit.js";

/** A server URL as given: `127.0.0.1:8000` means http://, and no trailing slash. */
export function serverUrl(url: string): string {
  return (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`).replace(/\/+$/, "");
}

/** An error answer of the REST API: its status and lakeFS's message. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type RestCall = (method: string, apiPath: string, body?: unknown) => Promise<unknown>;

/** Calls of the REST API at `url`; an unreachable server is one CLI line, an error answer a RestError. */
export function restClient(url: string, keys: { accessKeyId: string; secretAccessKey: string }, where?: string): RestCall {
  const base = serverUrl(url);
  const auth = "Basic " + Buffer.from(`${keys.accessKeyId}:${keys.secretAccessKey}`).toString("base64");
  return async (method, apiPath, body) => {
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1${apiPath}`, {
        method,
        headers: { authorization: auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new CliExit(1, `no lakes3 server answers at ${base}${where ? ` (${where})` : ""}`);
    }
    const text = await res.text();
    const json: unknown = text && (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text;
    if (!res.ok) throw new RestError(res.status, (json as { message?: string } | undefined)?.message ?? `server answered ${res.status}`);
    return json;
  };
}
