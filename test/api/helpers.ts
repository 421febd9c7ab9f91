/**
 * REST API test helpers: `api(...)` (fetch with HTTP Basic against /api/v1 of a test server) and
 * `expectSchema(body, "CommitList")`, which validates a JSON body against lakeFS's swagger.yml
 * (a copy lives next to this file) with ajv. Object schemas are checked strictly: a property the
 * spec does not declare is an error (catches `commitId` vs `commit_id` slips).
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { expect } from "vitest";
import { parse } from "yaml";
import type { TestServer } from "../helpers/server.js";

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface ApiOptions {
  json?: unknown;
  body?: string | Buffer | Uint8Array;
  headers?: Record<string, string>;
  /** false: no Authorization header; a string: that header value. */
  auth?: boolean | string;
}

export type Api = (method: string, path: string, options?: ApiOptions) => Promise<ApiResponse>;

export function basicAuth(id: string, secret: string): string {
  return "Basic " + Buffer.from(`${id}:${secret}`).toString("base64");
}

export function apiClient(t: TestServer): Api {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.auth !== false) headers["authorization"] = typeof options.auth === "string" ? options.auth : basicAuth(t.server.accessKeyId, t.server.secretAccessKey);
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    } else if (options.body !== undefined) body = typeof options.body === "string" ? options.body : new Uint8Array(options.body);
    const res = await fetch(`${t.url}/api/v1${path}`, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    if ((res.headers.get("content-type") ?? "").startsWith("application/json")) json = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, json };
  };
}

// ---- schema validation ----------------------------------------------------------------------------

const swagger = parse(readFileSync(new URL("./swagger.yml", import.meta.url), "utf8")) as { components: { schemas: Record<string, unknown> } };

function ajvFor(strict: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  ajv.addFormat("int64", { type: "number", validate: Number.isInteger });
  ajv.addFormat("int32", { type: "number", validate: Number.isInteger });
  const components = strict ? closeObjects(structuredClone(swagger.components)) : swagger.components;
  ajv.addSchema({ $id: "swagger", components });
  return ajv;
}

/** Every plain object schema with declared properties rejects undeclared ones. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) node.forEach(closeObjects);
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    for (const v of Object.values(o)) closeObjects(v);
    if (o["properties"] && o["additionalProperties"] === undefined && !o["allOf"] && !o["oneOf"] && !o["anyOf"]) o["additionalProperties"] = false;
  }
  return node;
}

const validators = { strict: ajvFor(true), loose: ajvFor(false) };
const cache = new Map<string, ValidateFunction>();

/** Assert that `body` is a valid `#/components/schemas/<name>` (strict: no undeclared fields). */
export function expectSchema(body: unknown, name: string, options: { strict?: boolean } = {}): void {
  const strict = options.strict ?? true;
  const key = `${strict}:${name}`;
  let validate = cache.get(key);
  if (!validate) {
    if (!swagger.components.schemas[name]) throw new Error(`no schema ${name} in swagger.yml`);
    validate = validators[strict ? "strict" : "loose"].compile({ $ref: `swagger#/components/schemas/${name}` });
    cache.set(key, validate);
  }
  const valid = validate(body);
  expect(valid ? [] : validate.errors, `${name}: ${JSON.stringify(body)}`).toEqual([]);
}

/** Assert a lakeFS error response: the status and an `Error` body (`{message}`). */
export function expectError(res: ApiResponse, status: number, message?: RegExp): void {
  expect(res.status, res.text).toBe(status);
  expectSchema(res.json, "Error");
  if (message) expect(res.json.message).toMatch(message);
}
