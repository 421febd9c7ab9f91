/**
 * What the commands that read or change a data dir share (`repo`, `branch`, `commit`, `log`,
 * `diff`, `tag`, `merge`, `cherry-pick`, `show`, …): the flags that say which data dir or server,
 * with which key pair, a `REPO/NAME` argument, and printing the answer (human or `--json`).
 */
import { Command, Option } from "commander";
import { DEFAULTS } from "../server/config.js";
import { CliExit } from "./exit.js";

export interface ServerFlags {
  dataDir: string;
  url?: string;
  accessKeyId: string;
  secretAccessKey: string;
  json?: boolean;
}

/** The data dir, server and key-pair flags, --json, and an example for --help. */
export function withServerFlags(cmd: Command, example: string): Command {
  return cmd
    .addOption(new Option("-d, --data-dir <dir>", "the data dir").env("LAKES3_DATA_DIR").default(DEFAULTS.dataDir))
    .addOption(new Option("--url <url>", "a running server instead of the data dir").env("LAKES3_URL"))
    .addOption(new Option("--access-key-id <id>", "key pair for the server's API").env("LAKES3_ACCESS_KEY_ID").default(DEFAULTS.accessKeyId))
    .addOption(new Option("--secret-access-key <secret>", "").env("LAKES3_SECRET_ACCESS_KEY").default(DEFAULTS.secretAccessKey, "the quickstart secret"))
    .option("--json", "JSON output (the REST API's answer)")
    .addHelpText("after", `\nExample:\n  ${example}`);
}

/** `REPO/NAME` → its parts; anything else is a usage error naming `what` was expected. */
export function splitAddress(value: string, what = "REPO/REF"): { repo: string; name: string } {
  const slash = value.indexOf("/");
  if (slash <= 0 || slash === value.length - 1) throw new CliExit(2, `expected ${what}, got ${JSON.stringify(value)}`);
  return { repo: value.slice(0, slash), name: value.slice(slash + 1) };
}

/** A command's answer on stdout: `human`, or `data` as JSON with --json. */
export function printAnswer(flags: Pick<ServerFlags, "json">, data: unknown, human: string): void {
  process.stdout.write((flags.json ? JSON.stringify(data ?? null, null, 2) : human) + "\n");
}
