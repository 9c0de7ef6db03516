import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, Implementation, Report, RunResult, Usage } from './protocol.js';

/** Generous: on a busy two-core machine a tsx child can take tens of seconds to load. */
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

/** A bench child process (server or client) driven over IPC. */
export interface BenchChild {
  readonly pid: number;
  readonly label: string;
  run(concurrency: number, seconds: number, warmupSeconds: number): Promise<RunResult>;
  usage(): Promise<Usage>;
  /** Asks it to exit cleanly, then kills it by PID if it has not within 10 s. */
  stop(): Promise<void>;
}

/** Spawn settings shared by every child. */
export interface SpawnOptions {
  readonly url: string;
  readonly cpuProfDir: string | undefined;
}

/**
 * Starts `server-process.ts` or `client-process.ts` for one implementation
 * under tsx (`node --import tsx`), optionally with `--cpu-prof` (profiles of
 * its threads land in `<dir>/<implementation>-<role>/`; the main thread's is
 * the largest), and waits for its `ready`.
 */
export async function spawnChild(
  role: 'server' | 'client',
  implementation: Implementation,
  options: SpawnOptions,
): Promise<BenchChild> {
  const script = fileURLToPath(new URL(`./${role}-process.ts`, import.meta.url));
  return spawnScript(script, [implementation], `${implementation}-${role}`, options);
}

/**
 * Starts any bench child script (one that calls `serveCommands`) under tsx
 * with `args`, labelled `label` (also the `--cpu-prof` subdirectory), and
 * waits for its `ready`. `env` adds to the inherited environment.
 */
export async function spawnScript(
  script: string,
  args: readonly string[],
  label: string,
  options: SpawnOptions,
  env: Record<string, string> = {},
): Promise<BenchChild> {
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfDir !== undefined)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, label)}`);
  const child = fork(script, [...args], {
    execArgv,
    env: {
      ...process.env,
      BENCH_URL: options.url,
      WARREN_LOG_LEVEL: process.env['WARREN_LOG_LEVEL'] ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${label}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await nextReport(child, 'ready', READY_TIMEOUT_MS, label);
  } catch (error) {
    // never leave a half-started child behind
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    throw error;
  }

  const ask = async <T extends Report['type']>(
    command: Command,
    expect: T,
    timeoutMs: number,
  ): Promise<Extract<Report, { type: T }>> => {
    const reply = nextReport(child, expect, timeoutMs, label);
    child.send(command);
    return reply;
  };
  return {
    pid,
    label,
    async run(concurrency, seconds, warmupSeconds) {
      const timeoutMs = (seconds + warmupSeconds) * 1000 + 30_000;
      return (await ask({ type: 'run', concurrency, seconds, warmupSeconds }, 'result', timeoutMs)).result;
    },
    async usage() {
      return (await ask({ type: 'usage' }, 'usage', 10_000)).usage;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

function nextReport<T extends Report['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  label: string,
): Promise<Extract<Report, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (report: Report): void => {
      if (report.type !== type) return;
      cleanup();
      resolve(report as Extract<Report, { type: T }>);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${label} (pid ${child.pid}) exited with ${code} while waiting for ${type}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label} (pid ${child.pid}) sent no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
