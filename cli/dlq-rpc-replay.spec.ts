import { describe, expect, it } from 'vitest';
import { Code, codeName } from '../core/index.js';
import { shouldRemove } from './dlq-rpc-replay.js';

function outcome(code: Code, answered: boolean) {
  return { messageId: 'm', method: 'p.S/M', status: codeName(code), code, message: '', answered };
}

describe('shouldRemove', () => {
  it('removes a replayed request the service answered, whatever the status: it was processed', () => {
    for (const code of [Code.OK, Code.NOT_FOUND, Code.FAILED_PRECONDITION, Code.INTERNAL, Code.UNIMPLEMENTED])
      expect(shouldRemove(outcome(code, true)), codeName(code)).toBe(true);
  });

  it('keeps one the service answered "not processed" (UNAVAILABLE, RESOURCE_EXHAUSTED), and one without an answer', () => {
    expect(shouldRemove(outcome(Code.UNAVAILABLE, true))).toBe(false);
    expect(shouldRemove(outcome(Code.RESOURCE_EXHAUSTED, true))).toBe(false);
    for (const code of [Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED, Code.INVALID_ARGUMENT])
      expect(shouldRemove(outcome(code, false))).toBe(false);
  });
});
