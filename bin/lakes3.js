#!/usr/bin/env node
// CommonJS (bin/package.json), as bin/load.js: Node starts a CommonJS entry point without setting
// up its ES module loader first (~2 ms of CPU), which the CLI needs only for the UI and chokidar.
"use strict";
require("./load.js").loadCli().main();
