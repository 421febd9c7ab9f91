/**
 * The `lakes3` command line: `serve` (flags mirrored as LAKES3_<FLAG> env vars). Failures are one
 * clear line on stderr and a non-zero exit; never a stack trace.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { ConfigError, DEFAULTS } from "./config.js";
import { RequestLog } from "./events.js";
import { attachLogSink, type LogFormat } from "./log-sink.js";
import { ListenError, startServer } from "./server.js";
import { StoreLockedError } from "./storage/metadata-store.js";

const VERSION = "0.1.0";

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected an integer 0-65535");
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];
}

export function buildProgram(): Command {
  const program = new Command("lakes3")
    .description("A local emulator of the lakeFS S3 gateway")
    .version(VERSION)
    .showHelpAfterError("(run lakes3 --help for usage)");

  program
    .command("serve")
    .description("serve the S3 gateway")
    .addOption(new Option("-p, --port <port>", "port to listen on (0 = any free port)").env("LAKES3_PORT").argParser(parsePort).default(DEFAULTS.port))
    .addOption(new Option("--host <host>", "address to bind").env("LAKES3_HOST").default(DEFAULTS.host))
    .addOption(new Option("-d, --data-dir <dir>", "where metadata and blobs live").env("LAKES3_DATA_DIR").default(DEFAULTS.dataDir))
    .addOption(new Option("--access-key-id <id>", "access key id clients sign with").env("LAKES3_ACCESS_KEY_ID").default(DEFAULTS.accessKeyId))
    .addOption(new Option("--secret-access-key <secret>", "secret access key").env("LAKES3_SECRET_ACCESS_KEY").default(DEFAULTS.secretAccessKey, "the lakeFS quickstart secret"))
    .addOption(new Option("--region <region>", "region reported to clients").env("LAKES3_REGION").default(DEFAULTS.region))
    .addOption(new Option("--domain <domain>", "bare domain for virtual-host style (comma-separated list)").env("LAKES3_DOMAIN").default(DEFAULTS.domains.join(",")))
    .addOption(new Option("--repo <name>", "ensure a repository exists (repeatable)").env("LAKES3_REPO").argParser(collect).default([]))
    .addOption(new Option("--mode <mode>", "lakefs: bucket=repository, first key segment=ref; s3: plain S3 over the default branch").choices(["lakefs", "s3"]).env("LAKES3_MODE").default(DEFAULTS.mode))
    .addOption(new Option("--ephemeral", "use a temporary data dir, removed on exit").env("LAKES3_EPHEMERAL"))
    .addOption(new Option("--log-format <format>", "request log format").choices(["text", "json"]).env("LAKES3_LOG_FORMAT").default("text"))
    .addOption(new Option("-q, --quiet", "print only the startup line and errors").env("LAKES3_QUIET"))
    .addOption(new Option("--no-tui", "plain log lines even on a terminal").env("LAKES3_NO_TUI"))
    .action(serve);

  return program;
}

interface ServeFlags {
  port: number;
  host: string;
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  domain: string;
  repo: string[] | string;
  mode: "lakefs" | "s3";
  ephemeral?: boolean;
  logFormat: LogFormat;
  quiet?: boolean;
  tui: boolean;
}

async function serve(flags: ServeFlags): Promise<void> {
  const log = new RequestLog();
  const repos = typeof flags.repo === "string" ? collect(flags.repo, []) : flags.repo;
  const server = await startServer({
    port: flags.port,
    host: flags.host,
    dataDir: flags.dataDir,
    ephemeral: flags.ephemeral,
    repos,
    credentials: { accessKeyId: flags.accessKeyId, secretAccessKey: flags.secretAccessKey },
    region: flags.region,
    domains: flags.domain.split(","),
    mode: flags.mode,
    log,
  });
  const out = process.stdout;
  out.write(`lakes3 listening on ${server.endpoint}\n`);
  const useTui = flags.tui && out.isTTY === true && process.stdin.isTTY === true && flags.logFormat === "text" && !flags.quiet;
  if (!flags.quiet && !useTui) {
    const example = server.mode === "lakefs" ? `s3://${repos[0] ?? "REPO"}/main/` : `s3://${repos[0] ?? "BUCKET"}/`;
    out.write(
      [
        `  mode          ${server.mode}${server.mode === "lakefs" ? " (bucket = repository, first key segment = ref)" : ""}`,
        `  access key    ${server.accessKeyId}`,
        `  secret key    ${server.secretAccessKey}`,
        `  region        ${server.region}`,
        `  data dir      ${server.dataDir}${flags.ephemeral ? " (ephemeral)" : ""}`,
        `  try           AWS_ACCESS_KEY_ID=${server.accessKeyId} AWS_SECRET_ACCESS_KEY=${server.secretAccessKey} aws --endpoint-url ${server.endpoint} s3 ls ${example}`,
        "",
      ].join("\n"),
    );
  }
  let ui: { unmount(): void } | undefined;
  if (useTui) {
    // The terminal UI is loaded only when used: CI and pipes never pay for React and Ink.
    const { renderApp } = await import("./ui/render.js");
    const info = { endpoint: server.endpoint, accessKeyId: server.accessKeyId, dataDir: server.dataDir, mode: server.mode, startedAt: Date.now() };
    ui = renderApp(log, info, () => stop("q"));
  } else {
    attachLogSink(log, out, { format: flags.logFormat, quiet: flags.quiet ?? false });
  }

  let stopping = false;
  function stop(signal: string) {
    if (stopping) return;
    stopping = true;
    ui?.unmount();
    if (!flags.quiet) out.write(`lakes3: ${signal === "q" ? "quit" : signal}, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err: Error) => fail(err.message),
    );
  }
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

function fail(message: string): never {
  process.stderr.write(`lakes3: ${message}\n`);
  process.exit(1);
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StoreLockedError || err instanceof ListenError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    fail(e.code ? `${e.message}` : String(e.message ?? e));
  }
}
