#!/usr/bin/env node
import { loadCli } from "./load.js";

await loadCli().main();
