#!/usr/bin/env node
// The README's picture of the request viewer, from a real terminal: starts the built `lakes3 serve`
// in a detached tmux session, makes a few typical requests (uploads, a listing with a prefix, a
// multipart upload, a missing key, a wrong secret, a REST call, a stray fixture file for a warning),
// opens the failed request's details, captures the pane with its colours (`tmux capture-pane -e`)
// and renders that to SVG (one monospace <text> per line, a <tspan> per colour run).
//
//   npm run build && node test/ui/capture-readme.mjs [--out test/ui/viewer.svg] [--cols 100] [--rows 30]
//
// Not a test: run it by hand when the viewer changes, and commit the SVG.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, "../../bin/lakes3.js");
const CREDENTIALS = { accessKeyId: "AKIAIOSFOLQUICKSTART", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

const { values: o } = parseArgs({
  options: {
    out: { type: "string", default: path.join(HERE, "viewer.svg") },
    cols: { type: "string", default: "100" },
    rows: { type: "string", default: "30" },
  },
});

const tmux = (...args) => execFileSync("tmux", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what) {
  const t0 = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - t0 > 15_000) throw new Error(`timed out waiting for ${what}; the screen:\n${tmux("capture-pane", "-p", "-t", session)}`);
    await sleep(100);
  }
}

// ---- ANSI (as tmux capture-pane -e writes it) → cells with styles ---------------------------

const PALETTE = ["#1e1e1e", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#dcdfe4"];
const BRIGHT = ["#5c6370", "#ef7b85", "#a9d48a", "#f0cf8c", "#7fc1ff", "#d79cec", "#6fd0dc", "#ffffff"];
const FOREGROUND = "#dcdfe4";
const BACKGROUND = "#1e1e1e";

function color256(n) {
  if (n < 8) return PALETTE[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const level = (x) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
}

/** One line of captured text → runs of { text, fg, bg, bold, dim } (the style carries over lines). */
function parseLine(line, style) {
  const runs = [];
  let text = "";
  const flush = () => {
    if (text) runs.push({ text, ...style });
    text = "";
  };
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\u001B" && line[i + 1] === "[") {
      const end = line.slice(i + 2).search(/[A-Za-z]/);
      const command = line[i + 2 + end];
      const params = line.slice(i + 2, i + 2 + end).split(";").map((p) => (p === "" ? 0 : Number(p)));
      i += 2 + end;
      if (command !== "m") continue;
      flush();
      for (let k = 0; k < params.length; k++) {
        const p = params[k];
        if (p === 0) Object.assign(style, { fg: undefined, bg: undefined, bold: false, dim: false, inverse: false });
        else if (p === 1) style.bold = true;
        else if (p === 2) style.dim = true;
        else if (p === 22) style.bold = style.dim = false;
        else if (p === 7) style.inverse = true;
        else if (p === 27) style.inverse = false;
        else if (p >= 30 && p <= 37) style.fg = PALETTE[p - 30];
        else if (p >= 90 && p <= 97) style.fg = BRIGHT[p - 90];
        else if (p === 39) style.fg = undefined;
        else if (p >= 40 && p <= 47) style.bg = PALETTE[p - 40];
        else if (p >= 100 && p <= 107) style.bg = BRIGHT[p - 100];
        else if (p === 49) style.bg = undefined;
        else if ((p === 38 || p === 48) && params[k + 1] === 5) {
          style[p === 38 ? "fg" : "bg"] = color256(params[k + 2]);
          k += 2;
        } else if ((p === 38 || p === 48) && params[k + 1] === 2) {
          style[p === 38 ? "fg" : "bg"] = `rgb(${params[k + 2]},${params[k + 3]},${params[k + 4]})`;
          k += 4;
        }
      }
      continue;
    }
    text += line[i];
  }
  flush();
  return runs;
}

const escapeXml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function toSvg(captured, cols, rows) {
  const cellW = 8.4;
  const cellH = 18;
  const pad = 12;
  const width = Math.ceil(cols * cellW + 2 * pad);
  const height = rows * cellH + 2 * pad;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="14">`,
    `<rect width="100%" height="100%" rx="6" fill="${BACKGROUND}"/>`,
  ];
  const style = {};
  captured.split("\n").slice(0, rows).forEach((line, row) => {
    let col = 0;
    const y = pad + row * cellH;
    const texts = [];
    for (const run of parseLine(line, style)) {
      const chars = [...run.text];
      const fg = run.inverse ? (run.bg ?? BACKGROUND) : (run.fg ?? FOREGROUND);
      const bg = run.inverse ? (run.fg ?? FOREGROUND) : run.bg;
      if (bg) out.push(`<rect x="${(pad + col * cellW).toFixed(1)}" y="${y}" width="${(chars.length * cellW).toFixed(1)}" height="${cellH}" fill="${bg}"/>`);
      if (run.text.trim() !== "") {
        const attrs = [`x="${(pad + col * cellW).toFixed(1)}"`, `fill="${fg}"`];
        if (run.bold) attrs.push(`font-weight="bold"`);
        if (run.dim) attrs.push(`fill-opacity="0.6"`);
        // one cell per character, whatever the font's glyph widths
        attrs.push(`textLength="${(chars.length * cellW).toFixed(1)}"`, `lengthAdjust="spacingAndGlyphs"`);
        texts.push(`<tspan ${attrs.join(" ")}>${escapeXml(run.text)}</tspan>`);
      }
      col += chars.length;
    }
    if (texts.length > 0) out.push(`<text y="${y + cellH - 5}" xml:space="preserve">${texts.join("")}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

// ---- a real terminal and some traffic -----------------------------------------------------------

const dir = await mkdtemp(path.join(os.tmpdir(), "lakes3-readme-"));
const session = `lakes3-readme-${process.pid}`;
try {
  const fixtures = path.join(dir, "fixtures");
  await mkdir(path.join(fixtures, "sample-repo/main/seed"), { recursive: true });
  await writeFile(path.join(fixtures, "sample-repo/main/seed/config.json"), '{"seed": true}\n');
  await writeFile(path.join(fixtures, "notes.txt"), "not under <repository>/<branch>/");
  const ready = path.join(dir, "ready");
  tmux("new-session", "-d", "-s", session, "-x", o.cols, "-y", o.rows,
    `${process.execPath} ${BIN} serve --port 0 --data-dir ${dir}/data --fixtures ${fixtures} --ready-file ${ready}`);
  const endpoint = await until(() => readFile(ready, "utf8").catch(() => ""), "the server");
  const screen = (escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session);
  await until(() => screen().includes("requests"), "the viewer");

  const options = { endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1 };
  const s3 = new S3Client({ ...options, credentials: CREDENTIALS });
  const wrong = new S3Client({ ...options, credentials: { ...CREDENTIALS, secretAccessKey: "not-the-secret" } });
  const Bucket = "sample-repo";
  for (const [Key, Body] of [["main/raw/2024/01/events.csv", "id,kind\n1,click\n".repeat(400)], ["main/raw/2024/02/events.csv", "id,kind\n2,view\n".repeat(900)], ["main/models/churn/model.pkl", Buffer.alloc(180_000, 7)]]) {
    await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  }
  await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "main/raw/", Delimiter: "/" }));
  await (await s3.send(new GetObjectCommand({ Bucket, Key: "main/raw/2024/01/events.csv" }))).Body.transformToString();
  await s3.send(new GetObjectCommand({ Bucket, Key: "main/raw/2024/03/events.csv" })).catch(() => undefined);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "main/exports/full.parquet" }));
  const part = await s3.send(new UploadPartCommand({ Bucket, Key: "main/exports/full.parquet", UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "main/exports/full.parquet", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
  const basic = `Basic ${Buffer.from(`${CREDENTIALS.accessKeyId}:${CREDENTIALS.secretAccessKey}`).toString("base64")}`;
  await fetch(`${endpoint}/api/v1/repositories/sample-repo/branches`, { headers: { authorization: basic } });
  await wrong.send(new PutObjectCommand({ Bucket, Key: "main/raw/2024/02/late.csv", Body: "x" })).catch(() => undefined);
  s3.destroy();
  wrong.destroy();

  await until(() => screen().includes(" 403 ") && screen().includes("in flight 0"), "the requests on screen");
  tmux("send-keys", "-t", session, "k");
  await until(() => screen().includes("›"), "the selection");
  tmux("send-keys", "-t", session, "Enter");
  await until(() => screen().includes("string to sign (server)"), "the details");
  const captured = screen(true);
  await writeFile(o.out, toSvg(captured, Number(o.cols), Number(o.rows)));
  console.log(`wrote ${path.relative(process.cwd(), o.out)} (${o.cols}×${o.rows})`);
  tmux("send-keys", "-t", session, "q");
} finally {
  try {
    tmux("kill-session", "-t", session);
  } catch {
    // it quit
  }
  await rm(dir, { recursive: true, force: true });
}
