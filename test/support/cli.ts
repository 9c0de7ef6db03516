import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `warren` executable's source (compiled to dist/cli/bin.js in the package), run here through tsx: no build needed. */
export const WARREN_BIN = fileURLToPath(new URL('../../cli/bin.ts', import.meta.url));
const tsxLoader = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

/** How one CLI run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running CLI child, its output kept as it comes. */
export interface CliProcess {
  readonly pid: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once `pattern` matches all of stdout or stderr so far. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Signals this child only (by its PID), if it is still running. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code when the child is gone and its output read. */
  readonly exited: Promise<number | null>;
}

/** Starts `node --import tsx cli/bin.ts <args>` as a child process, with `input` on stdin (closed after). */
export function startWarren(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=warren-source', WARREN_BIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
  });
  const text = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const collect =
    (stream: 'stdout' | 'stderr') =>
    (chunk: Buffer): void => {
      text[stream] += chunk.toString();
      for (const listener of [...listeners]) listener();
    };
  child.stdout.on('data', collect('stdout'));
  child.stderr.on('data', collect('stderr'));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  child.stdin.on('error', () => undefined); // a child that exits before reading its input
  child.stdin.end(options.input ?? '');
  return {
    pid: child.pid!,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    exited,
    waitFor(stream, pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(text[stream])) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no ${pattern} on ${stream} within ${timeoutMs} ms; stdout: ${text.stdout}; stderr: ${text.stderr}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `warren <args> (cli/bin.ts)` as a child process to completion, with `input` on stdin. */
export async function runWarren(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliRun> {
  const child = startWarren(args, options);
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}
