/**
 * Bundles the command line (tsc's dist/cli/main.js and what it imports) into one CommonJS script,
 * dist/bundle/cli.cjs, which bin/lakes3.js runs (through bin/load.js), then makes V8's code cache
 * for it (src/build/code-cache.mjs). `lakes3 serve` then reads two files instead of resolving,
 * reading, parsing and linking some eighty modules, and most of what it runs to answer its first
 * request is compiled already. The modules the CLI imports with import() are in the script too,
 * run on first use as before (esbuild wraps each in a function); the build fails if one of them is
 * also imported statically from the start-up's modules. Packages stay external (required from
 * node_modules; those imported with import(), imported by bin/load.js for it), but for those in
 * `inlined`. The terminal UI stays tsc's dist/ui/render.js: it imports Ink, an ES module with
 * top-level await, which a script cannot require(). The programmatic API (dist/index.js) is tsc's
 * output, unbundled. Run by `npm run build`, after tsc.
 */
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const dist = path.join(root, "dist");
const outdir = path.join(dist, "bundle");
const outfile = path.join(outdir, "cli.cjs");

// Imported by the CLI with import(), on first use: they must not be run (nor, the UI, loaded) at start.
const lazy = ["cli/inspect-commands.js", "cli/repo-commands.js", "cli/versioning-commands.js", "api/index.js", "inspect/queries.js", "fixtures/fixtures.js"];
const external = ["../ui/render.js"]; // as imported by cli/main.js: dist/ui/render.js from dist/bundle/ too

// Bundled into the CLI with everything they import but Node's own modules (commander: 3 ms of the
// start-up's CPU; level and abstract-level, some thirty files: 10 ms). classic-level's JavaScript
// is then the bundle's and its native binding the installed package's: they must be the same
// version, so package.json pins classic-level (a direct dependency for that alone), and the build
// checks that the one it bundles is that one.
const inlined = new Set(["commander", "level"]);
const pkg = JSON.parse(await readFile(path.join(root, "package.json"), "utf8"));
const classicLevel = JSON.parse(await readFile(path.join(root, "node_modules/classic-level/package.json"), "utf8")).version;
if (classicLevel !== pkg.dependencies["classic-level"]) {
  throw new Error(`bundle: node_modules has classic-level ${classicLevel}, package.json pins ${pkg.dependencies["classic-level"]}: run npm install`);
}
const packageOf = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
const inNodeModules = (file) => file.includes(`${path.sep}node_modules${path.sep}`);
const externals = {
  name: "externals",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      // classic-level's native binding stays with the installed package (loaded by its own path).
      if (/^\.\/binding(\.js)?$/.test(args.path) && args.importer.includes(`${path.sep}node_modules${path.sep}classic-level${path.sep}`)) {
        return { path: "classic-level/binding.js", external: true };
      }
      if (external.includes(args.path) && args.importer === path.join(dist, "cli/main.js")) return { path: args.path, external: true };
      return undefined;
    });
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return undefined; // Node's own: external (platform node)
      // What an inlined package imports is inlined too (the version it was installed with).
      if (inlined.has(packageOf(args.path)) || inNodeModules(args.importer)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

// No cache of an earlier build may outlive it (V8 checks a cache against its script's length only).
await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: [path.join(dist, "cli/main.js")],
  outfile,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  plugins: [externals],
  // The bundle's URL (bin/load.js passes it): createRequire(import.meta.url) resolves packages from
  // the bundle's directory.
  define: { "import.meta.url": "__lakes3BundleUrl" },
  metafile: true,
  logLevel: "warning",
  // Without comments and indentation, a third less to read and page in (names stay, for stacks).
  minifyWhitespace: true,
});

// A warning is a bundle that may not run as tsc's modules do (e.g. import.meta.dirname, which a
// script has not): fail rather than ship it.
if (result.warnings.length > 0) throw new Error(`bundle: esbuild warned (${result.warnings.length}); see above`);

// The modules run at start: those the entry imports statically, and what they import so.
const inputs = result.metafile.inputs;
const atStart = new Set();
const pending = [path.relative(root, path.join(dist, "cli/main.js"))];
while (pending.length > 0) {
  const file = pending.pop();
  if (atStart.has(file) || !inputs[file]) continue;
  atStart.add(file);
  for (const imp of inputs[file].imports) if (imp.kind !== "dynamic-import" && !imp.external) pending.push(imp.path);
}
for (const module of lazy) {
  const file = path.relative(root, path.join(dist, module));
  if (!inputs[file]) throw new Error(`bundle: ${file} is not in the bundle: update the list of lazily imported modules in src/build/bundle.mjs`);
  if (atStart.has(file)) throw new Error(`bundle: ${file}, imported with import() on first use, is also imported statically by the start-up's modules`);
}
const dynamic = Object.entries(inputs).flatMap(([file, input]) => (inNodeModules(file) ? [] : input.imports.filter((imp) => imp.kind === "dynamic-import" && !imp.external).map((imp) => imp.path)));
const unlisted = dynamic.filter((file) => !lazy.some((module) => file === path.relative(root, path.join(dist, module))));
if (unlisted.length > 0) throw new Error(`bundle: add ${unlisted.join(", ")} (imported with import()) to the lazily imported modules in src/build/bundle.mjs`);

// A script's import() does not work once V8 has compiled it from a code cache (Node 20 loses the
// script's import callback), so the bundle's import() of what is not in it (chokidar, the UI)
// calls bin/load.js's instead.
let code = await readFile(outfile, "utf8");
const imported = Object.values(inputs).flatMap((input) => input.imports.filter((imp) => imp.kind === "dynamic-import" && imp.external).map((imp) => imp.path));
for (const specifier of new Set(imported)) {
  const call = `import(${JSON.stringify(specifier)})`;
  if (!code.includes(call)) throw new Error(`bundle: ${call} not found in ${outfile}`);
  code = code.replaceAll(call, `__lakes3Import(${JSON.stringify(specifier)})`);
}
const left = /\bimport\(/.exec(code);
if (left) throw new Error(`bundle: an import() left in ${outfile}: ${code.slice(left.index - 40, left.index + 60)}`);
// What bin/load.js compiles, as it is: the function a CommonJS module's code is wrapped in (no
// copy of the source made at start to wrap it), in ASCII alone, so that it reads the file as latin1
// into a one-byte string (a non-ASCII character in a comment made it a two-byte string of twice the
// size). esbuild escapes what is not ASCII in strings and regular expressions, and minified, no
// comment is left.
const nonAscii = /[^\x00-\x7f]/.exec(code);
if (nonAscii) throw new Error(`bundle: a character that is not ASCII in ${outfile}: ${code.slice(Math.max(0, nonAscii.index - 40), nonAscii.index + 40)}`);
// Strict, as the ES modules it is made of.
code = `(function (exports, require, module, __filename, __dirname, __lakes3Import, __lakes3BundleUrl) {"use strict";${code}\n})`;
await writeFile(outfile, code);

// V8's code cache for the script, made by a run of `lakes3 serve` that answers a request.
const made = spawnSync(process.execPath, [path.join(root, "src/build/code-cache.mjs")], { stdio: "inherit", timeout: 60_000 });
if (made.status !== 0) throw new Error(`bundle: src/build/code-cache.mjs failed (${made.error?.message ?? `exit ${made.status ?? made.signal}`})`);
