import { describe, expect, it } from 'vitest';
import { parseProblems, problemText } from './generate.js';

describe('buf problems', () => {
  it("reads buf's JSON annotations and shows them as file:line:column", () => {
    const stdout = [
      '{"path":"proto/a.proto","start_line":3,"start_column":20,"end_line":3,"end_column":25,"type":"COMPILE","message":"cannot find `strin` in this scope"}',
      'not json',
      '{"path":"proto/b.proto","start_line":4,"start_column":9,"type":"MESSAGE_PASCAL_CASE","message":"Message name \\"bad\\" should be PascalCase."}',
      '',
    ].join('\n');
    const problems = parseProblems(stdout);
    expect(problems).toEqual([
      { path: 'proto/a.proto', line: 3, column: 20, type: 'COMPILE', message: 'cannot find `strin` in this scope' },
      {
        path: 'proto/b.proto',
        line: 4,
        column: 9,
        type: 'MESSAGE_PASCAL_CASE',
        message: 'Message name "bad" should be PascalCase.',
      },
    ]);
    expect(problems.map(problemText)).toEqual([
      'proto/a.proto:3:20: cannot find `strin` in this scope',
      'proto/b.proto:4:9: Message name "bad" should be PascalCase. (MESSAGE_PASCAL_CASE)',
    ]);
  });
});
