/**
 * The server's configuration: defaults (lakeFS quickstart), environment overrides (LAKES3_<FLAG>),
 * and validation. The CLI and the programmatic API both end up with one `Config`.
 */
import path from "node:path";
import { isValidOrigin } from "./cors.js";

import type { Mode } from "../protocol/request.js";
import { REPOSITORY_NAME } from "../versioning/names.js";

export type { Mode };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Bare domain(s) for virtual-host style addressing. */
  domains: string[];
  /** Repositories to ensure at start. */
  repos: string[];
  mode: Mode;
  /** Browser origins allowed besides loopback ones (`*`: any, without credentials). */
  corsOrigins: string[];
  /**
   * Answer as lakeFS wherever lakes3 is more permissive (protocol/divergences.ts); without it, such
   * requests are marked with a portability warning. lakefs mode only.
   */
  strict: boolean;
}

export const DEFAULTS: Config = {
  port: 8000,
  host: "127.0.0.1",
  dataDir: ".lakes3",
  accessKeyId: "AKIAIOSFOLQUICKSTART",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  domains: ["s3.local.lakefs.io"],
  repos: [],
  mode: "lakefs",
  corsOrigins: [],
  strict: false,
};


/** A command that lists the first repository (or a placeholder) through this server with the AWS CLI. */
export function tryCommand(c: { endpoint: string; accessKeyId: string; secret: string; mode: Mode; repos: readonly string[] }): string {
  const example = c.mode === "lakefs" ? `s3://${c.repos[0] ?? "REPO"}/main/` : `s3://${c.repos[0] ?? "BUCKET"}/`;
  return `AWS_ACCESS_KEY_ID=${c.accessKeyId} AWS_SECRET_ACCESS_KEY=${c.secret} aws --endpoint-url ${c.endpoint} s3 ls ${example}`;
}

/** Written into the data dir while a server holds it: `{ url, pid }` (how `inspect` finds it). */
export const SERVER_FILE = "server.json";

/** A configuration mistake: the CLI prints its message as one line and exits non-zero. */
export class ConfigError extends Error {}

export function resolveConfig(input: Partial<Config>): Config {
  const config: Config = { ...DEFAULTS, ...stripUndefined(input) };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new ConfigError(`invalid port ${JSON.stringify(input.port)}: expected an integer 0-65535`);
  }
  if (config.mode !== "lakefs" && config.mode !== "s3") {
    throw new ConfigError(`invalid mode ${JSON.stringify(config.mode)}: expected lakefs or s3`);
  }
  if (config.strict && config.mode !== "lakefs") {
    throw new ConfigError("--strict answers as lakeFS and applies to --mode lakefs only (--mode s3 is plain S3)");
  }
  for (const repo of config.repos) {
    if (!REPOSITORY_NAME.test(repo)) {
      throw new ConfigError(`invalid repository name ${JSON.stringify(repo)}: use 3-63 characters a-z, 0-9 and '-', starting with a letter or digit`);
    }
  }
  if (!config.accessKeyId || !config.secretAccessKey) throw new ConfigError("access key id and secret access key must not be empty");
  for (const origin of config.corsOrigins) {
    if (!isValidOrigin(origin)) throw new ConfigError(`invalid CORS origin ${JSON.stringify(origin)}: expected * or scheme://host[:port], e.g. http://localhost:5173`);
  }
  config.domains = config.domains.map((d) => d.trim().toLowerCase()).filter(Boolean);
  config.dataDir = path.resolve(config.dataDir);
  return config;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
