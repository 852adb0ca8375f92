#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=192
// The heap flags keep `leadflow dev` (every service in one process, plus its PGlite child)
// under its 400 MB budget: without them V8 lets garbage grow towards its default limit
// (a heap snapshot after 10 × 1000 companies holds ~70 MB live, while the heap reached ~200 MB).
// Tests and the benchmark start the bin with these same flags (testkit `cliNodeArgs`);
// images run `node cli/bin/leadflow.js` and take NODE_OPTIONS instead.
// Leadflow runs its TypeScript sources through tsx (esbuild) in every environment:
// no separate build output to keep in step with the sources.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
