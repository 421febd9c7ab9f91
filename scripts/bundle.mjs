/**
 * Bundles the command line (tsc's dist/cli/main.js and what it imports) into dist/bundle/, which
 * bin/lakes3.js runs: `lakes3 serve` then loads a dozen files instead of some eighty modules, each
 * of which Node resolves, reads and links on its own (about a sixth of the start-up's CPU).
 * Packages stay external (loaded from node_modules as before). Each module the CLI imports only
 * when needed is an entry point of its own, so it stays out of the start-up and keeps its path
 * (dist/bundle/api/index.js); what several of them share goes to chunk-*.js files. The programmatic
 * API (dist/index.js) is tsc's output, unbundled. Run by `npm run build`, after tsc.
 */
import { build } from "esbuild";
import { rm } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const dist = path.join(root, "dist");
const outdir = path.join(dist, "bundle");

// The CLI, and the modules it (or what it loads) imports with import(): loaded on first use.
const entries = ["cli/main.js", "cli/inspect-commands.js", "cli/repo-commands.js", "cli/versioning-commands.js", "api/index.js", "inspect/queries.js", "fixtures/fixtures.js", "ui/render.js"];

await rm(outdir, { recursive: true, force: true }); // no chunk of an earlier build is left behind
const result = await build({
  absWorkingDir: root,
  entryPoints: entries.map((e) => path.join(dist, e)),
  outbase: dist,
  outdir,
  entryNames: "[dir]/[name]",
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  metafile: true,
  logLevel: "warning",
});
// A module imported with import() that is not in `entries` still works (esbuild gives it a chunk
// of its own), but under a hashed name: keep the list complete.
const outputs = result.metafile.outputs;
for (const [file, output] of Object.entries(outputs)) {
  for (const imp of output.imports) {
    if (imp.kind === "dynamic-import" && !imp.external && !outputs[imp.path]?.entryPoint) {
      throw new Error(`bundle: ${file} imports ${imp.path} with import(); add its module to the entries in scripts/bundle.mjs`);
    }
  }
}
// …and each of them must really stay out of the start-up: not also imported statically from what
// `lakes3 serve` loads (esbuild would then move its code into a chunk loaded at start).
const atStart = new Set();
const pending = [path.relative(root, path.join(outdir, "cli/main.js"))];
while (pending.length > 0) {
  const file = pending.pop();
  if (atStart.has(file)) continue;
  atStart.add(file);
  for (const imp of outputs[file].imports) if (imp.kind === "import-statement" && !imp.external) pending.push(imp.path);
}
for (const entry of entries.slice(1)) {
  const input = path.relative(root, path.join(dist, entry));
  const loader = [...atStart].find((file) => input in outputs[file].inputs);
  if (loader) throw new Error(`bundle: ${input}, loaded with import() on first use, is also imported statically by the start-up's modules (it is in ${loader})`);
}

