import { parseArgs } from 'node:util';
import type { Schedule } from './interleave.js';

/** A schedule plus which contenders to run and where CPU profiles go. */
export interface HarnessOptions extends Schedule {
  /** Contender names to run (all when `--only` is absent); the baseline is always kept. */
  readonly only: readonly string[] | undefined;
  /** Directory for `--cpu-prof` profiles of every child, or undefined. */
  readonly cpuProfDir: string | undefined;
  readonly quick: boolean;
  /** Pair every contender with a baseline run right next to it (see runInterleaved) instead of the same round's. */
  readonly adjacent: boolean;
}

/** Default rounds and durations (strings, as on the command line). */
export interface Preset {
  readonly rounds: string;
  readonly seconds: string;
  readonly warmup: string;
  readonly prewarm: string;
}

/** Full run: 5 rounds x 3 s after 1 s warm-up per cell, 4 s pre-warm per contender. */
const FULL = { rounds: '5', seconds: '3', warmup: '1', prewarm: '4' };
/** `--quick` smoke run: 2 rounds x 0.5 s after 0.2 s warm-up, 0.5 s pre-warm. */
const QUICK = { rounds: '2', seconds: '0.5', warmup: '0.2', prewarm: '0.5' };

/**
 * Parses `[--quick] [--adjacent] [--rounds N] [--seconds S] [--warmup S] [--prewarm S]
 * [--concurrency 1,16,128] [--only a,b] [--cpu-prof DIR]`; explicit values win
 * over `--quick`'s. Throws with `usage` on bad input.
 */
export function parseHarnessOptions(
  argv: readonly string[],
  usage: string,
  defaultConcurrency = '1,16,128',
  full: Preset = FULL,
): HarnessOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      adjacent: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      prewarm: { type: 'string' },
      concurrency: { type: 'string', default: defaultConcurrency },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(usage);
  const preset = values.quick ? QUICK : full;
  const number = (name: string, text: string, integer: boolean, zeroOk: boolean): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroOk) || (integer && !Number.isInteger(value))) {
      throw new Error(
        `--${name} must be a ${zeroOk ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}\n${usage}`,
      );
    }
    return value;
  };
  return {
    quick: values.quick,
    adjacent: values.adjacent,
    rounds: number('rounds', values.rounds ?? preset.rounds, true, false),
    seconds: number('seconds', values.seconds ?? preset.seconds, false, false),
    warmupSeconds: number('warmup', values.warmup ?? preset.warmup, false, true),
    prewarmSeconds: number('prewarm', values.prewarm ?? preset.prewarm, false, true),
    concurrency: values.concurrency.split(',').map((part) => number('concurrency', part.trim(), true, false)),
    only: values.only
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    cpuProfDir: values['cpu-prof'],
  };
}

/** The heading line every harness table starts with: what was run, so the numbers can be judged. */
export function describeSchedule(options: HarnessOptions, elapsedSeconds: number): string {
  return `${options.rounds} interleaved rounds (rotating order) x ${options.seconds} s measured per cell, each after ${options.warmupSeconds} s of unmeasured warm-up (same for everyone), after ${options.prewarmSeconds} s pre-warm per system; medians across rounds; ratios = median of per-round ratios (${elapsedSeconds.toFixed(0)} s in all)`;
}
