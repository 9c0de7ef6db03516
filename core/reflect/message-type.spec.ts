import { beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';
import { loadProtos } from './load-protos.js';
import type { DynamicMessageType } from './message-type.js';

let thing: DynamicMessageType;
let create: DynamicMessageType;
beforeAll(async () => {
  const protos = await loadProtos({ root: 'proto' });
  thing = protos.findMessage('warren.test.v1.Thing')!;
  create = protos.findMessage('warren.test.v1.CreateThingRequest')!;
});

function rejection(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw new Error(`expected an RpcError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected an RpcError, nothing was thrown');
}

describe('dynamic message JSON', () => {
  it('round-trips every field kind in canonical proto3 JSON', () => {
    const json = {
      id: 't1',
      name: 'Lamp',
      kind: 'THING_KIND_TOOL',
      weightGrams: '9223372036854775807',
      payload: 'AAEC/w==',
      createdAt: '2024-02-29T12:00:00.250Z',
      ttl: '90.500s',
      priority: 7,
      labels: { colour: 'red' },
      tags: ['a', 'b'],
      score: 0.5,
      archived: true,
    };
    const message = thing.fromJSON(json);
    expect(thing.toJSON(thing.decode(thing.encode(message).finish()))).toEqual(json);
  });

  it('accepts int64 as numbers, enums as numbers, proto field names, and url-safe base64', () => {
    const message = thing.fromJSON({ weight_grams: 12, kind: 1, payload: '-_8' });
    expect(thing.toJSON(message)).toEqual({ weightGrams: '12', kind: 'THING_KIND_BOOK', payload: '+/8=' });
  });

  it('omits default values on output', () => {
    expect(thing.toJSON(thing.fromJSON({ id: '', weightGrams: '0', archived: false, tags: [] }))).toEqual({});
  });

  it.each([
    [{ name: 5 }, 'Thing.name', 'expected string'],
    [{ weightGrams: 'abc' }, 'weightGrams:', 'not a valid int64'],
    [{ weightGrams: 1.5 }, 'weightGrams:', 'not an integer'],
    [{ weightGrams: '99999999999999999999' }, 'weightGrams:', 'out of range for int64'],
    [{ kind: 'THING_KIND_NOPE' }, 'kind:', 'is not a value of warren.test.v1.ThingKind'],
    [{ archived: 'true' }, 'Thing.archived', 'expected boolean'],
    [{ score: 'lots' }, 'score:', 'not a valid double'],
    [{ payload: 'not base64!' }, 'Thing.payload', 'invalid base64'],
    [{ payload: 'abcde' }, 'Thing.payload', 'invalid base64'],
    [{ createdAt: 'yesterday' }, 'google.protobuf.Timestamp', 'invalid RFC 3339'],
    [{ ttl: 90 }, 'google.protobuf.Duration', '90'],
    [{ priority: 'high' }, 'priority:', 'not a valid int32'],
    [{ labels: ['x'] }, 'Thing.labels', 'expected object'],
    [{ tags: 'a' }, 'Thing.tags', 'expected Array'],
    [{ colour: 'red' }, 'colour:', 'unknown field of warren.test.v1.Thing'],
  ])('refuses %j with INVALID_ARGUMENT naming %s', (json, field, what) => {
    const error = rejection(() => thing.fromJSON(json));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.rawMessage).toContain(field);
    expect(error.rawMessage).toContain(what);
  });

  it('refuses non-objects and nested non-objects', () => {
    for (const json of [null, 'x', 3, [1]])
      expect(rejection(() => thing.fromJSON(json)).code).toBe(Code.INVALID_ARGUMENT);
    expect(rejection(() => create.fromJSON({ thing: 'x' })).rawMessage).toContain('warren.test.v1.Thing');
    expect(rejection(() => create.fromJSON({ thing: { payload: '%%%' } })).rawMessage).toContain('Thing.payload');
  });

  it('does not let __proto__ or constructor keys reach any prototype', () => {
    expect(rejection(() => thing.fromJSON(JSON.parse('{"__proto__": {"polluted": true}}'))).rawMessage).toContain(
      'unknown field',
    );
    expect(rejection(() => thing.fromJSON({ constructor: { prototype: { polluted: true } } })).rawMessage).toContain(
      'unknown field',
    );
    const message = thing.fromJSON(JSON.parse('{"labels": {"__proto__": "x", "constructor": "y"}}'));
    expect(thing.toJSON(thing.decode(thing.encode(message).finish()))).toEqual(
      JSON.parse('{"labels": {"__proto__": "x", "constructor": "y"}}'),
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('dynamic fromPartial', () => {
  it('passes message instances through and builds others from proto-named objects', () => {
    const message = thing.fromJSON({ id: 'a' });
    expect(thing.fromPartial(message)).toBe(message);
    expect(thing.toJSON(thing.fromPartial({ id: 'b', weight_grams: 3, tags: ['x'] }))).toEqual({
      id: 'b',
      weightGrams: '3',
      tags: ['x'],
    });
  });

  it('refuses wrong types with INVALID_ARGUMENT', () => {
    expect(rejection(() => thing.fromPartial({ weight_grams: 'heavy' })).code).toBe(Code.INVALID_ARGUMENT);
    expect(rejection(() => thing.fromPartial(null)).code).toBe(Code.INVALID_ARGUMENT);
  });
});
