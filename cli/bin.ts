#!/usr/bin/env node
/**
 * The `warren` executable (package.json `bin`, compiled to dist/cli/bin.js). `warren gateway [flags]` runs the HTTP
 * gateway (gateway/main.ts, same flags and environment); everything else is the CLI (cli/main.ts).
 */
if (process.argv[2] === 'gateway') {
  process.argv.splice(2, 1);
  await import('../gateway/main.js');
} else {
  await import('./main.js');
}
