#!/usr/bin/env node
// Leadflow runs its TypeScript sources through tsx (esbuild) in every environment:
// no separate build output to keep in step with the sources.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
