#!/usr/bin/env node
// The command line's entry on node. `npx leadflow` goes through the `leadflow` launcher beside
// this file, which picks V8 heap flags for the command; images run `node cli/bin/leadflow.js`
// and take NODE_OPTIONS instead.
// Leadflow runs its TypeScript sources through tsx (esbuild) in every environment:
// no separate build output to keep in step with the sources.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
