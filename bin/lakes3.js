#!/usr/bin/env node
// The bundled command line (scripts/bundle.mjs, part of `npm run build`): it starts sooner than
// tsc's dist/cli/main.js, which it is built from.
import { main } from "../dist/bundle/cli/main.js";

await main();
