import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const tsxLoader = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;
/** The memory probe preloaded by {@link startCaptured} with `memoryProbe`. */
const PROBE = new URL('./memory-probe.mjs', import.meta.url).href;

/** A TypeScript script run as a child process with its stdout and stderr kept whole (log inspection, fuzzing). */
export interface CapturedProcess {
  readonly pid: number;
  /** Everything printed so far, stdout and stderr interleaved as received. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects on timeout or exit, with the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
  /** True until the process exits. */
  alive(): boolean;
  /** SIGKILL to this child's PID only (no-op once it exited). */
  kill(): void;
  /** With `memoryProbe`: a full GC in the child, then its heap and RSS in bytes. */
  memory(timeoutMs?: number): Promise<{ heapUsed: number; rss: number }>;
}

/**
 * Starts `node --import tsx <script>` with extra environment variables.
 * `memoryProbe` preloads test/support/memory-probe.mjs with `--expose-gc`,
 * so {@link CapturedProcess.memory} can measure the child after a GC.
 */
export function startCaptured(
  script: string,
  env: Record<string, string>,
  options: { memoryProbe?: string } = {},
): CapturedProcess {
  const probeEnv =
    options.memoryProbe === undefined
      ? {}
      : { NODE_OPTIONS: `--expose-gc --import=${PROBE}`, MEMORY_PROBE_FILE: options.memoryProbe };
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=warren-source', script], {
    env: { ...process.env, ...env, ...probeEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let running = true;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => (running = false));
  let probes = 0;
  return {
    pid: child.pid!,
    output: () => output,
    exited,
    alive: () => running,
    kill() {
      if (running) process.kill(child.pid!, 'SIGKILL');
    },
    async waitFor(pattern, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (!running) throw new Error(`child ${child.pid} exited before printing ${pattern}:\n${output.slice(-4000)}`);
        if (Date.now() > until)
          throw new Error(`child ${child.pid} printed no ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async memory(timeoutMs = 10_000) {
      const file = options.memoryProbe;
      if (file === undefined) throw new Error('started without memoryProbe');
      const wanted = ++probes;
      process.kill(child.pid!, 'SIGUSR2');
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (existsSync(file)) {
          const report = JSON.parse(readFileSync(file, 'utf8') || '{}') as {
            seq?: number;
            heapUsed: number;
            rss: number;
          };
          if (report.seq === wanted) return { heapUsed: report.heapUsed, rss: report.rss };
        }
        if (!running || Date.now() > until)
          throw new Error(`child ${child.pid} did not report its memory (probe ${wanted})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Absolute path of a file next to the calling test, from its `import.meta.url`. */
export function pathFrom(base: string, relative: string): string {
  return fileURLToPath(new URL(relative, base));
}
