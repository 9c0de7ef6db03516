import { describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { createOutput, formatTable, printRecords } from './output.js';

function sinks(isTTY = false) {
  const text = { stdout: '', stderr: '' };
  return {
    text,
    stdout: { write: (chunk: string) => (text.stdout += chunk) },
    stderr: { write: (chunk: string) => (text.stderr += chunk), isTTY },
  };
}

describe('output', () => {
  it('prints values indented on a terminal and as one line under --json', () => {
    const plain = sinks();
    createOutput({ json: false, ...plain }).value({ a: 1 });
    expect(plain.text.stdout).toBe('{\n  "a": 1\n}\n');
    const json = sinks();
    createOutput({ json: true, ...json }).value({ a: 1 });
    expect(json.text.stdout).toBe('{"a":1}\n');
  });

  it('prints records one JSON value each, or through print with blank lines between, or the none line', () => {
    const records = [{ id: 'a' }, { id: 'b' }];
    const json = sinks();
    printRecords(
      createOutput({ json: true, ...json }),
      records,
      () => undefined,
      () => undefined,
    );
    expect(json.text.stdout).toBe('{"id":"a"}\n{"id":"b"}\n');
    const plain = sinks();
    const out = createOutput({ json: false, ...plain });
    printRecords(
      out,
      records,
      () => out.line('none'),
      (record, index) => out.line(`${index}: ${record.id}`),
    );
    expect(plain.text.stdout).toBe('0: a\n\n1: b\n');
    const empty = sinks();
    const quiet = createOutput({ json: false, ...empty });
    printRecords(
      quiet,
      [],
      () => quiet.line('none'),
      () => quiet.line('never'),
    );
    expect(empty.text.stdout).toBe('none\n');
  });

  it('reports errors on stderr by code name, or as JSON', () => {
    const plain = sinks();
    createOutput({ json: false, ...plain }).error({
      code: Code.NOT_FOUND,
      message: 'gone',
      metadata: { by: 'x' },
      hint: 'try again',
    });
    expect(plain.text).toEqual({ stdout: '', stderr: 'NOT_FOUND: gone\nmetadata: {"by":"x"}\ntry again\n' });
    const json = sinks();
    createOutput({ json: true, ...json }).error({ code: Code.NOT_FOUND, message: 'gone', hint: 'ignored' });
    expect(JSON.parse(json.text.stderr)).toEqual({ error: { code: 'NOT_FOUND', number: 5, message: 'gone' } });
  });

  it('overwrites progress on a terminal and prints lines otherwise', () => {
    const tty = sinks(true);
    const out = createOutput({ json: false, ...tty });
    out.progress('1/2');
    out.progress('2/2');
    out.endProgress();
    expect(tty.text.stderr).toBe('\r\x1b[2K1/2\r\x1b[2K2/2\n');
    const piped = sinks(false);
    const logged = createOutput({ json: false, ...piped });
    logged.progress('1/2');
    logged.progress('2/2');
    logged.endProgress();
    expect(piped.text.stderr).toBe('1/2\n2/2\n');
  });

  it('clears a progress line on a terminal before printing a result, so the two do not mix', () => {
    const tty = sinks(true);
    const out = createOutput({ json: false, ...tty });
    expect(out.interactive).toBe(true);
    out.progress('1/2');
    out.line('first done');
    out.progress('2/2');
    out.endProgress();
    expect(tty.text.stderr).toBe('\r\x1b[2K1/2\r\x1b[2K\r\x1b[2K2/2\n');
    expect(tty.text.stdout).toBe('first done\n');
    const piped = sinks(false);
    const logged = createOutput({ json: false, ...piped });
    expect(logged.interactive).toBe(false);
    logged.progress('1/2');
    logged.line('first done');
    expect(piped.text.stderr).toBe('1/2\n');
  });

  it('aligns table columns', () => {
    expect(
      formatTable([
        ['a', 'bb', 'c'],
        ['ccc', 'd', 'eeee'],
      ]),
    ).toEqual(['a    bb  c', 'ccc  d   eeee']);
  });
});
