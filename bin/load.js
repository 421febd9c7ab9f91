/**
 * Loads the bundled command line (dist/bundle/cli.cjs, made by src/build/bundle.mjs) as one script,
 * with V8's code cache for it (dist/bundle/cli.cjs.cache) when there is one: V8 then neither parses
 * nor compiles what `lakes3 serve` runs to answer its first request, which is most of what loading
 * the command line costs. (Node 22 caches compiled modules by itself; Node 20 does not.) A cache
 * that V8 cannot use (another Node version, other V8 flags) is ignored: the script is compiled as
 * usual. The terminal UI, which imports Ink (an ES module with top-level await), is tsc's
 * dist/ui/render.js, imported on first use (by importForCli), like the packages imported that way.
 */
"use strict";
const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const vm = require("node:vm");

const CLI = path.join(__dirname, "../dist/bundle/cli.cjs");
const CACHE = `${CLI}.cache`;

/** The CLI's exports (`main`), and its script (src/build/code-cache.mjs makes the cache from it). */
function loadCli() {
  // A function expression in ASCII (src/build/bundle.mjs), compiled as it is.
  const source = readFileSync(CLI, "latin1");
  let cachedData;
  try {
    cachedData = readFileSync(CACHE);
  } catch {
    // no cache: compiled as usual
  }
  const script = new vm.Script(source, { filename: CLI, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(CLI), module, CLI, path.dirname(CLI), importForCli, pathToFileURL(CLI).href);
  return { main: module.exports.main, script, cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected };
}

/**
 * The bundle's import() (src/build/bundle.mjs makes its import() calls this): a package, or a module
 * of dist/ by its path from the bundle.
 */
function importForCli(specifier) {
  return import(specifier.startsWith(".") ? new URL(specifier, pathToFileURL(CLI)).href : specifier);
}

module.exports = { CLI, CACHE, loadCli };
