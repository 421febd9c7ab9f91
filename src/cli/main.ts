/**
 * The `lakes3` command line: `serve` (flags mirrored as LAKES3_<FLAG> env vars) and `health` (a
 * readiness probe for CI). Failures are one clear line on stderr and a non-zero exit; never a
 * stack trace.
 */
import { randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, DEFAULTS, tryCommand, type Config } from "../server/config.js";
import { RequestLog } from "../log/events.js";
import { attachLogSink, type LogFormat } from "../log/sinks.js";
import { ListenError, startServer, type LakeS3Server } from "../server/lifecycle.js";
import { writeFileDurably } from "../storage/durable-file.js";
import { CliExit } from "./exit.js";
import { tuneHeapForServing } from "./heap.js";
import { serverUrl } from "./rest.js";
import { StoreLockedError } from "../storage/metadata-store.js";
import { readFaultFile } from "../faults/file.js";
import { FaultRuleError, RULE_GRAMMAR } from "../faults/rule.js";
import { MAX_FAULT_SEED } from "../faults/injector.js";

const VERSION = "0.1.0";

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected an integer 0-65535");
  return n;
}

/** `--fault` rules: repeatable; `;` separates several in one value (LAKES3_FAULT="r1;r2"). */
function collectRules(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(";").map((v) => v.trim()).filter(Boolean)];
}

function parseSeed(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_FAULT_SEED) throw new InvalidArgumentError(`expected an integer 0-${MAX_FAULT_SEED}`);
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter(Boolean)];
}

/**
 * The command line. `lakes3 serve …` is the command whose start-up counts (scripts and CI wait for
 * its first answer), so for it the modules of the other commands (inspect, doctor, repo, branch,
 * tag, …), which it never runs, are not loaded.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command("lakes3")
    .exitOverride()
    .description("A local emulator of the lakeFS S3 gateway")
    .version(VERSION);

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
    .addOption(new Option("--ephemeral", "use a temporary data dir, removed on exit (env LAKES3_EPHEMERAL=true|false)"))
    .addOption(new Option("--fixtures <dir>", "load <dir>/<repo>/<branch>/<path> as objects and watch for changes").env("LAKES3_FIXTURES"))
    .addOption(new Option("--ready-file <path>", "write the URL to this file once ready (removed on exit)").env("LAKES3_READY_FILE"))
    .addOption(new Option("--log-format <format>", "request log format").choices(["text", "json"]).env("LAKES3_LOG_FORMAT").default("text"))
    .addOption(new Option("-q, --quiet", "print only the startup line and errors (env LAKES3_QUIET=true|false)"))
    .addOption(new Option("--no-tui", "plain log lines even on a terminal (env LAKES3_NO_TUI=true|false)"))
    .addOption(new Option("--cors-origin <origin>", "also let web pages from this origin call lakes3 from a browser (repeatable; * for any, without credentials); loopback origins always may").env("LAKES3_CORS_ORIGIN").argParser(collect).default([]))
    .addOption(new Option("--strict", "answer exactly as lakeFS where lakes3 is more permissive (mode lakefs; default: answer and warn) (env LAKES3_STRICT=true|false)"))
    .addOption(new Option("--fault <rule>", `inject a fault into matching requests (repeatable). ${RULE_GRAMMAR}`).env("LAKES3_FAULT").argParser(collectRules).default([]))
    .addOption(new Option("--faults <file>", "fault rules from a file: .json (a list), .yaml/.yml (a list of flat maps), else one rule per line").env("LAKES3_FAULTS"))
    .addOption(new Option("--fault-seed <n>", "seed for rate= draws and delay ranges, to reproduce a run (default: random, printed at start)").env("LAKES3_FAULT_SEED").argParser(parseSeed))
    .addOption(new Option("--accept-damage", "start even on damaged metadata: serve what is left, move unreferenced object files to <data-dir>/lost+found/ (env LAKES3_ACCEPT_DAMAGE=true|false)"))
    .action(serve);

  program
    .command("health")
    .description("exit 0 when the server's GET /_health answers 200, 1 otherwise")
    .addOption(new Option("--url <url>", "the server's URL").env("LAKES3_URL").default("http://127.0.0.1:8000"))
    .addOption(new Option("--timeout <ms>", "keep retrying until ready or this many milliseconds have passed").argParser(parseMs).default(0))
    .action(health);

  if (argv[2] === "serve") return program;
  const [inspect, repo, versioning] = await Promise.all([import("./inspect-commands.js"), import("./repo-commands.js"), import("./versioning-commands.js")]);
  inspect.registerInspect(program);
  inspect.registerDoctor(program);
  repo.registerRepoCommands(program);
  versioning.registerVersioningCommands(program);
  return program;
}

/** The serve flags as commander hands them over: the config's fields, lists possibly unsplit. */
interface ServeFlags extends Pick<Config, "port" | "host" | "dataDir" | "accessKeyId" | "secretAccessKey" | "region" | "mode"> {
  domain: string;
  repo: string[] | string;
  ephemeral?: boolean;
  fixtures?: string;
  readyFile?: string;
  logFormat: LogFormat;
  quiet?: boolean;
  tui: boolean;
  acceptDamage?: boolean;
  strict?: boolean;
  corsOrigin: string[] | string;
  fault: string[];
  faults?: string;
  faultSeed?: number;
}

/**
 * A boolean flag: given on the command line, or from its environment variable, which must say
 * true/false/1/0/yes/no (anything else is one clear error, never a silent "on").
 */
function booleanFlag(cmd: Command, option: string, env: string, negated = false): boolean | undefined {
  if (cmd.getOptionValueSource(option) === "cli") return cmd.getOptionValue(option) as boolean;
  const raw = process.env[env];
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim().toLowerCase();
  const on = ["true", "1", "yes", "on"].includes(v);
  if (!on && !["false", "0", "no", "off"].includes(v)) throw new ConfigError(`${env}=${JSON.stringify(raw)}: expected true or false (or 1/0, yes/no)`);
  return negated ? !on : on;
}

/** While `serve` runs, a closed stdout stops the server instead of exiting at once. */
let serving = false;

async function serve(given: ServeFlags, cmd: Command): Promise<void> {
  serving = true;
  const flags: ServeFlags = {
    ...given,
    ephemeral: booleanFlag(cmd, "ephemeral", "LAKES3_EPHEMERAL"),
    quiet: booleanFlag(cmd, "quiet", "LAKES3_QUIET"),
    tui: booleanFlag(cmd, "tui", "LAKES3_NO_TUI", true) ?? true,
    acceptDamage: booleanFlag(cmd, "acceptDamage", "LAKES3_ACCEPT_DAMAGE"),
    strict: booleanFlag(cmd, "strict", "LAKES3_STRICT"),
  };
  if (flags.ephemeral && cmd.getOptionValueSource("dataDir") !== "default") {
    throw new ConfigError(`--ephemeral uses a temporary data dir, --data-dir (or LAKES3_DATA_DIR) names one: choose one`);
  }
  // A ready file left by a server that was killed must not be read as this one's URL.
  if (flags.readyFile) await rm(flags.readyFile, { force: true });
  const out = process.stdout;
  const useTui = flags.tui && out.isTTY === true && process.stdin.isTTY === true && flags.logFormat === "text" && !flags.quiet;
  // Finished requests are kept in memory for the viewer alone; without it they only pass through
  // (to the printed lines and requests.log), and die young.
  const log = useTui ? new RequestLog() : new RequestLog(0);
  tuneHeapForServing(log);
  const repos = typeof flags.repo === "string" ? collect(flags.repo, []) : flags.repo;
  let server: LakeS3Server | undefined;
  let ui: { unmount(): void } | undefined;
  let stopping: string | undefined;

  function stop(signal: string) {
    if (stopping) return;
    stopping = signal;
    if (!server) return; // still starting: stopped as soon as it is up
    ui?.unmount();
    if (!flags.quiet && signal !== "EPIPE") out.write(`lakes3: ${signal === "q" ? "quit" : signal}, shutting down\n`);
    const divergent = log.totals.divergent;
    if (divergent > 0 && signal !== "EPIPE") {
      out.write(`lakes3: ${divergent} request${divergent === 1 ? "" : "s"} relied on behaviour lakeFS does not have; see inspect requests --divergent\n`);
    }
    Promise.all([server.close(), flags.readyFile && rm(flags.readyFile, { force: true })]).then(
      () => process.exit(0),
      (err: Error) => fail(err.message),
    );
  }
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Started through `npx lakes3 serve … &`, the job's pid is npm's: when a script kills it, npm
  // exits without passing the signal on. So under npm exec, the server stops (cleanly) once its
  // parent is gone, rather than outliving it with the port, the ready file and the ephemeral dir.
  if (process.env["npm_command"] === "exec") {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop("parent exited");
    }, 250).unref();
  }
  // A closed pipe (`lakes3 serve | head -1`) stops the server cleanly: the ephemeral dir and the
  // ready file go too.
  out.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") stop("EPIPE");
  });

  const faults = [...(flags.faults ? await readFaultFile(flags.faults) : []), ...flags.fault];
  // Chosen here, so that the banner can print it: a failing CI run is reproduced with --fault-seed.
  const faultSeed = flags.faultSeed ?? randomInt(MAX_FAULT_SEED + 1);
  server = await startServer({
    port: flags.port,
    host: flags.host,
    ...(flags.ephemeral ? { ephemeral: true } : { dataDir: flags.dataDir }),
    repos,
    credentials: { accessKeyId: flags.accessKeyId, secretAccessKey: flags.secretAccessKey },
    region: flags.region,
    domains: flags.domain.split(","),
    mode: flags.mode,
    fixtures: flags.fixtures,
    acceptDamage: flags.acceptDamage,
    strict: flags.strict,
    corsOrigins: typeof flags.corsOrigin === "string" ? collect(flags.corsOrigin, []) : flags.corsOrigin,
    faults,
    faultSeed,
    log,
    // The viewer shows warnings (kept in the log): printed under it, they would tear its screen.
    ...(useTui ? { onWarning: () => undefined } : {}),
    // As soon as the port is bound, before fixtures load: the first line, then (no TUI) the
    // details and the request log, so fixture loads are printed too.
    onListening: ({ endpoint, dataDir }) => {
      out.write(`lakes3 listening on ${endpoint}\n`);
      // The quickstart secret is public; a secret of your own never goes to the terminal or CI logs.
      const publicSecret = flags.secretAccessKey === DEFAULTS.secretAccessKey;
      const shownSecret = publicSecret ? flags.secretAccessKey : "**** (as given by --secret-access-key / LAKES3_SECRET_ACCESS_KEY)";
      if (useTui) return;
      if (!flags.quiet) {
        const secret = publicSecret ? flags.secretAccessKey : "<your secret>";
        out.write(
          [
            `  mode          ${flags.mode}${flags.mode === "lakefs" ? ` (bucket = repository, first key segment = ref)${flags.strict ? ", strict: answers as lakeFS" : ""}` : ""}`,
            `  access key    ${flags.accessKeyId}`,
            `  secret key    ${shownSecret}`,
            `  region        ${flags.region}`,
            `  data dir      ${dataDir}${flags.ephemeral ? " (ephemeral)" : ""}`,
            ...(flags.fixtures ? [`  fixtures      ${flags.fixtures} (watched)`] : []),
            ...(faults.length > 0 ? [`  faults        ${faults.length} rule${faults.length > 1 ? "s" : ""}, seed ${faultSeed} (--fault-seed ${faultSeed} repeats this run's draws)`] : []),
            `  try           ${tryCommand({ endpoint, accessKeyId: flags.accessKeyId, secret, mode: flags.mode, repos })}`,
            "",
          ].join("\n"),
        );
      }
      attachLogSink(log, out, { format: flags.logFormat, quiet: flags.quiet ?? false });
    },
  });
  if (flags.readyFile) {
    const file = flags.readyFile;
    await writeFileDurably(file, server.endpoint).catch(async (err: Error) => {
      await server?.close(); // removes an ephemeral data dir
      throw new ConfigError(`cannot write ready file ${file}: ${err.message}`);
    });
  }
  if (useTui) {
    // The terminal UI is loaded only when used: CI and pipes never pay for React and Ink.
    const { renderApp } = await loadViewer();
    const info = {
      endpoint: server.endpoint,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      tryCommand: (secret: string) => tryCommand({ endpoint: server!.endpoint, accessKeyId: server!.accessKeyId, secret, mode: server!.mode, repos }),
      dataDir: server.dataDir,
      mode: server.mode,
      startedAt: Date.now(),
    };
    ui = renderApp(log, info, () => stop("q"));
  }
  if (stopping) {
    const signal = stopping;
    stopping = undefined;
    stop(signal);
  }
}

/**
 * Load the terminal UI. Ink draws only its final frame when it believes it runs in CI (it reads CI
 * and CONTINUOUS_INTEGRATION once, at import). A person at a terminal (stdin and stdout both TTYs)
 * gets the live viewer even where CI is set in the environment, so Ink is imported with those
 * variables hidden, then they are put back for everything else. React is loaded as its production
 * build (it picks one by NODE_ENV at import; the development build costs several times the CPU a
 * frame) unless NODE_ENV says otherwise.
 */
async function loadViewer(): Promise<typeof import("../ui/render.js")> {
  const saved = (["CI", "CONTINUOUS_INTEGRATION", "NODE_ENV"] as const).map((name) => [name, process.env[name]] as const);
  delete process.env["CI"];
  delete process.env["CONTINUOUS_INTEGRATION"];
  process.env["NODE_ENV"] ??= "production";
  try {
    return await import("../ui/render.js");
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function parseMs(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a number of milliseconds");
  return Number(value);
}

async function health(flags: { url: string; timeout: number }): Promise<void> {
  let url: URL;
  try {
    // `127.0.0.1:9000` and `localhost:8000` mean http://
    url = new URL(serverUrl(flags.url));
  } catch {
    fail(`health: invalid URL ${JSON.stringify(flags.url)}`);
  }
  if (!url.pathname.endsWith("/_health")) url.pathname = url.pathname.replace(/\/?$/, "/_health");
  const deadline = Date.now() + flags.timeout;
  for (;;) {
    let problem: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, Math.min(5000, deadline - Date.now()))) });
      await res.body?.cancel();
      if (res.status === 200) return;
      problem = `${res.status} ${res.status === 503 ? "not ready yet" : res.statusText}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      problem = cause?.code ?? (err as Error).message;
    }
    if (Date.now() >= deadline) fail(`health: ${url.href}: ${problem}${flags.timeout > 0 ? ` (after ${flags.timeout} ms)` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now()))));
  }
}

function fail(message: string): never {
  process.stderr.write(`lakes3: ${message}\n`);
  process.exit(1);
}

export async function main(argv = process.argv): Promise<void> {
  // `lakes3 inspect requests | head -1`: the reader went away; that is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" && !serving) process.exit(0);
  });
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    // commander already printed its one line (usage errors exit 2, --help/--version 0)
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof CliExit) {
      process.stderr.write(`lakes3: ${err.message}\n`);
      process.exit(err.code);
    }
    if (err instanceof ConfigError || err instanceof StoreLockedError || err instanceof ListenError || err instanceof FaultRuleError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    fail(e.code ? `${e.message}` : String(e.message ?? e));
  }
}
