import { parseArgs } from 'node:util';
import type { Implementation } from './protocol.js';

/** How one benchmark run is shaped. */
export interface BenchOptions {
  /** Interleaved rounds; medians are taken across them. Default 5. */
  readonly rounds: number;
  /** Measured seconds per (implementation, concurrency) in each round. Default 3. */
  readonly seconds: number;
  /** Unmeasured warm-up before each measured window. Default 0.5. */
  readonly warmupSeconds: number;
  /**
   * Unmeasured load per implementation before the first round, so both have
   * been JIT-optimised (at concurrency 1 a 0.5 s warm-up is a few hundred
   * calls, far too few for V8 to settle). Default 4.
   */
  readonly prewarmSeconds: number;
  /** Closed-loop concurrency levels. Default 1, 16, 128. */
  readonly concurrency: readonly number[];
  /** Implementations to run (both unless `--only`). */
  readonly implementations: readonly Implementation[];
  /** Directory for `--cpu-prof` profiles of every child, or undefined. */
  readonly cpuProfDir: string | undefined;
}

const USAGE = `usage: npm run bench -- [--rounds 5] [--seconds 3] [--warmup 0.5] [--prewarm 4] [--concurrency 1,16,128] [--only raw|warren] [--cpu-prof DIR]`;

/** Parses the bench's command line; throws with the usage on bad input. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '0.5' },
      prewarm: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '1,16,128' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const positive = (name: string, text: string, integer: boolean): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new Error(
        `--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}\n${USAGE}`,
      );
    }
    return value;
  };
  const only = values.only;
  if (only !== undefined && only !== 'raw' && only !== 'warren')
    throw new Error(`--only must be raw or warren\n${USAGE}`);
  return {
    rounds: positive('rounds', values.rounds, true),
    seconds: positive('seconds', values.seconds, false),
    warmupSeconds: values.warmup === '0' ? 0 : positive('warmup', values.warmup, false),
    prewarmSeconds: values.prewarm === '0' ? 0 : positive('prewarm', values.prewarm, false),
    concurrency: values.concurrency.split(',').map((part) => positive('concurrency', part.trim(), true)),
    implementations: only === undefined ? ['raw', 'warren'] : [only],
    cpuProfDir: values['cpu-prof'],
  };
}
