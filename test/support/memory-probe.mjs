// Preloaded into a child process under test (NODE_OPTIONS="--expose-gc --import=<this file>", by
// test/support/captured-process.ts): on SIGUSR2 it runs full garbage collections, then writes
// {"seq", "heapUsed", "rss"} to $MEMORY_PROBE_FILE (a file, not stdout, so the report never mixes with logs).
import { writeFileSync, renameSync } from 'node:fs';

const file = process.env.MEMORY_PROBE_FILE;
let seq = 0;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    seq += 1;
    writeFileSync(`${file}.tmp`, JSON.stringify({ seq, heapUsed, rss }));
    renameSync(`${file}.tmp`, file);
  });
}
