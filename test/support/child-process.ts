import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A TypeScript script run as a real child process, its stdout kept line by line. */
export interface ChildScript {
  readonly pid: number;
  readonly lines: string[];
  /** Resolves with the first line (seen so far or later) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal to this child only (by its PID). */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
}

// `--import tsx` (not the tsx CLI, which forks again) so the PID we hold is the script's own.
const tsxLoader = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;

/** Starts `node --import tsx <script>` with extra environment variables. */
export function runScript(script: string, env: Record<string, string>): ChildScript {
  const child: ChildProcess = spawn(process.execPath, ['--import', tsxLoader, '--conditions=warren-source', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let index: number;
    while ((index = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, index));
      buffer = buffer.slice(index + 1);
    }
    for (const listener of [...listeners]) listener();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid!,
    lines,
    exited,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined) return;
          cleanup();
          resolve(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `child ${child.pid} printed no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(new Error(`child ${child.pid} exited before printing ${pattern}; stderr: ${stderr}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** Path of the TestService server child script. */
export const testServerScript = fileURLToPath(new URL('./test-server-process.ts', import.meta.url));

/** Starts the TestService server child (test/support/test-server-process.ts) and waits for `ready`. */
export async function startTestServer(
  url: string,
  instance: string,
  extra: Record<string, string> = {},
): Promise<ChildScript> {
  const child = runScript(testServerScript, { AMQP_URL: url, INSTANCE: instance, ...extra });
  await child.waitFor(/^ready /);
  return child;
}
