import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `warren` launcher, as `npx warren` runs it. */
export const WARREN_BIN = fileURLToPath(new URL('../../cli/bin.mjs', import.meta.url));

/** How one CLI run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node cli/bin.mjs <args>` as a child process to completion, with `input` on stdin. */
export function runWarren(args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARREN_BIN, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
