import { type Code, codeName } from '../core/index.js';

/** A writable the output goes to: `process.stdout`/`process.stderr` or a test double. */
export interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * Where a command writes. Results go to stdout; notes, progress and errors
 * to stderr, so `warren call ... | jq` sees only the result. With `--json`
 * every result is one JSON document per line (NDJSON for streams), errors
 * are JSON on stderr.
 */
export interface Output {
  /** True under `--json`. */
  readonly json: boolean;
  /** True when stderr is a terminal: progress overwrites itself there, so it can be shown often. */
  readonly interactive: boolean;
  /** A line of text on stdout (on a terminal, a progress line shown is cleared first, then shown again by the next `progress`). */
  line(text?: string): void;
  /** A JSON value on stdout: one compact line under `--json`, indented otherwise. */
  value(value: unknown): void;
  /** A remark on stderr (what the command is doing, hints). */
  note(text: string): void;
  /** A progress line on stderr; on a terminal it overwrites the previous one. */
  progress(text: string): void;
  /** Ends a run of progress lines. */
  endProgress(): void;
  /** Reports a failure on stderr: `CODE_NAME: message`, or JSON under `--json`. */
  error(failure: { code: Code; message: string; metadata?: Record<string, string>; hint?: string | undefined }): void;
}

/** Creates the output of one command run. Defaults: the process's stdout and stderr. */
export function createOutput(options: { json: boolean; stdout?: Sink; stderr?: Sink }): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const overwrite = stderr.isTTY === true;
  let progressShown = false;
  const endProgress = (): void => {
    if (progressShown && overwrite) stderr.write('\n');
    progressShown = false;
  };
  /** Results printed while progress is shown (replay outcomes) must not land behind the progress text. */
  const clearProgress = (): void => {
    if (progressShown && overwrite) stderr.write('\r\x1b[2K');
    progressShown = false;
  };
  return {
    json: options.json,
    interactive: overwrite,
    line(text = '') {
      clearProgress();
      stdout.write(`${text}\n`);
    },
    value(value) {
      clearProgress();
      stdout.write(`${options.json ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
    },
    note(text) {
      endProgress();
      stderr.write(`${text}\n`);
    },
    progress(text) {
      stderr.write(overwrite ? `\r\x1b[2K${text}` : `${text}\n`);
      progressShown = true;
    },
    endProgress,
    error({ code, message, metadata, hint }) {
      endProgress();
      if (options.json) {
        const error: Record<string, unknown> = { code: codeName(code), number: code, message };
        if (metadata !== undefined && Object.keys(metadata).length > 0) error['metadata'] = metadata;
        stderr.write(`${JSON.stringify({ error })}\n`);
        return;
      }
      stderr.write(`${codeName(code)}: ${message}\n`);
      if (metadata !== undefined && Object.keys(metadata).length > 0)
        stderr.write(`metadata: ${JSON.stringify(metadata)}\n`);
      if (hint !== undefined) stderr.write(`${hint}\n`);
    },
  };
}

/** Lays rows out in aligned columns (the last column is not padded). */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * Prints records (dead letters, say): one JSON value each with `--json`;
 * otherwise `none()` when there are none, else each through `print`,
 * separated by a blank line.
 */
export function printRecords<T>(
  out: Output,
  records: readonly T[],
  none: () => void,
  print: (record: T, index: number) => void,
): void {
  if (out.json) {
    for (const record of records) out.value(record);
    return;
  }
  if (records.length === 0) none();
  records.forEach((record, index) => {
    if (index > 0) out.line();
    print(record, index);
  });
}
