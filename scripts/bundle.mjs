/**
 * Bundles the command line (tsc's dist/cli/main.js and what it imports) into dist/bundle/, which
 * bin/lakes3.js runs: `lakes3 serve` then loads a dozen files instead of some eighty modules, each
 * of which Node resolves, reads and links on its own (about a sixth of the start-up's CPU).
 * Packages stay external (loaded from node_modules), but for those in `inlined`. Each module the
 * CLI imports only when needed is an entry point of its own, so it stays out of the start-up and
 * keeps its path (dist/bundle/api/index.js); what several of them share goes to chunk-*.js files.
 * The programmatic API (dist/index.js) is tsc's output, unbundled. Run by `npm run build`, after
 * tsc.
 */
import { build } from "esbuild";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const dist = path.join(root, "dist");
const outdir = path.join(dist, "bundle");

// The CLI, and the modules it (or what it loads) imports with import(): loaded on first use.
const entries = ["cli/main.js", "cli/inspect-commands.js", "cli/repo-commands.js", "cli/versioning-commands.js", "api/index.js", "inspect/queries.js", "fixtures/fixtures.js", "ui/render.js"];

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
const externals = {
  name: "externals",
  setup(b) {
    // classic-level's native binding stays with the installed package (loaded by its own path).
    b.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}classic-level${path.sep}`) ? { path: "classic-level/binding.js", external: true } : undefined,
    );
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return undefined; // Node's own: external (platform node)
      // What an inlined package imports is inlined too (the version it was installed with).
      if (inlined.has(packageOf(args.path)) || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

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
  plugins: [externals],
  // The CommonJS code of inlined packages require()s Node's modules: give it a require().
  banner: { js: `import { createRequire as __lakes3CreateRequire } from "node:module";\nconst require = __lakes3CreateRequire(import.meta.url);` },
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

