import { describe, expect, it } from 'vitest';
import { EchoRequest } from '../../gen/warren/test/v1/test.js';
import { Thing } from '../../gen/warren/test/v1/rest_test.js';
import { Code } from './code.js';
import { decodeMessage } from './content-type.js';
import { RpcError } from './rpc-error.js';

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const decodeThing = (value: unknown) => decodeMessage(Thing, json(value), 'application/json', 'request');
const refusal = (run: () => unknown): RpcError => {
  try {
    run();
  } catch (error) {
    return error as RpcError;
  }
  throw new Error('expected a refusal');
};

describe('strict proto3 JSON over the generated codecs', () => {
  it('accepts every spelling proto3 JSON allows', () => {
    const thing = decodeThing({
      id: 't-1',
      kind: 'THING_KIND_TOOL',
      weight_grams: '9007199254740991', // snake_case key, int64 as a string
      payload: 'aGk', // base64 without padding
      createdAt: '2026-11-22T10:00:00Z',
      priority: 3,
      labels: { colour: 'blue' },
      tags: ['a', 'b'],
      score: 'NaN',
      archived: false,
      name: null, // null: the default
    });
    expect(thing).toMatchObject({ id: 't-1', kind: 2, weightGrams: 9007199254740991, tags: ['a', 'b'], labels: { colour: 'blue' }, priority: 3 });
    expect(Buffer.from(thing.payload).toString()).toBe('hi');
    expect(Number.isNaN(thing.score)).toBe(true);
    expect(decodeThing({ kind: 1, weightGrams: 12, score: 1.5 })).toMatchObject({ kind: 1, weightGrams: 12, score: 1.5 });
    expect(decodeThing({ kind: 'THING_KIND_UNSPECIFIED', payload: 'aGk=', tags: [] })).toMatchObject({ kind: 0, tags: [] });
  });

  it('ignores unknown fields, as the binary format does (a newer client, an older server)', () => {
    expect(decodeThing({ id: 'x', addedLater: { deep: [1, 2] } })).toMatchObject({ id: 'x' });
  });

  it.each([
    [{ weightGrams: {} }, 'weightGrams'],
    [{ name: 5 }, 'name'],
    [{ tags: 'x' }, 'tags'],
    [{ tags: ['a', 7] }, 'tags[1]'],
    [{ kind: 'THING_KIND_SPOON' }, 'kind'],
    [{ weightGrams: 1.5 }, 'weightGrams'],
    [{ weightGrams: '9007199254740993' }, 'weightGrams'], // beyond 2^53: would lose precision
    [{ archived: 'yes' }, 'archived'],
    [{ labels: { colour: 5 } }, 'labels.colour'],
    [{ createdAt: 'yesterday' }, 'createdAt'],
  ])('refuses %j with INVALID_ARGUMENT naming %s', (body, field) => {
    const error = refusal(() => decodeThing(body));
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain(`${field}:`);
  });

  it('names the value and what it would have become', () => {
    const error = refusal(() => decodeMessage(EchoRequest, json({ text: 'ok', number: { n: 1 } }), 'application/json', 'request of Echo'));
    expect(error.rawMessage).toBe('request of Echo does not match the message type: number: {"n":1} is not a valid value for this field (it would read as null)');
  });
});
