#!/usr/bin/env node
// Launcher of the `warren` CLI (the package.json `bin`). It registers tsx's
// loader in this very process, then imports the TypeScript entry: no build
// step, and the PID is the CLI's own, so Ctrl-C and kill reach it directly.
// Equivalent to `node --import tsx cli/main.ts`, from any working directory:
// tsx and the repository's tsconfig are resolved relative to this file.
import { fileURLToPath, URL } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('./main.ts');
