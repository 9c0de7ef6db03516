#!/usr/bin/env node
// Launcher of the `warren` CLI (the package.json `bin`). It runs the CLI
// compiled ahead (cli/compiled-cli.mjs: built on first use, rebuilt whenever
// a source changes, kept in node_modules/.cache/warren-cli), falling back to
// running the TypeScript sources through tsx's loader when no compiled CLI
// can be had. WARREN_CLI_TSX=1 always takes the tsx way. Either way the CLI
// runs in this very process, so Ctrl-C and kill reach it directly.
import { fileURLToPath, URL } from 'node:url';
import { compiledEntry } from './compiled-cli.mjs';

const compiled = process.env['WARREN_CLI_TSX'] === '1' ? undefined : await compiledEntry();
if (compiled !== undefined) {
  await import(compiled);
} else {
  // Equivalent to `node --import tsx cli/main.ts`, from any working directory:
  // tsx and the repository's tsconfig are resolved relative to this file.
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import('./main.ts');
}
