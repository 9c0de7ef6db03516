import { describe, expect, it } from 'vitest';
import { ChargeRequest } from '../../../gen/shop/payments/v1/payments.js';
import { ListThingsRequest, Thing } from '../../../gen/warren/test/v1/rest_test.js';
import { Code } from '../code.js';
import { decodeMessage, encodeMessage } from '../content-type.js';
import { RpcError } from '../rpc-error.js';

const read = (type: typeof Thing | typeof ListThingsRequest | typeof ChargeRequest, text: string): unknown =>
  decodeMessage(type as typeof Thing, Buffer.from(text), 'application/json', 'request');
const write = (type: typeof Thing, message: unknown): string =>
  Buffer.from(encodeMessage(type, message, 'application/json')).toString();

describe('proto3 JSON (descriptor-driven, numbers read from their text)', () => {
  it.each([
    ['{"amountCents": 9007199254740993}', 9007199254740993n],
    ['{"amountCents": "9007199254740993"}', 9007199254740993n],
    ['{"amountCents": "-9223372036854775808"}', -9223372036854775808n],
    ['{"amountCents": 1e2}', 100n],
    ['{"amountCents": "1.5e1"}', 15n],
    ['{"amountCents": 100.000}', 100n],
    ['{"amount_cents": "7"}', 7n],
  ])('reads int64 %s exactly', (body, value) => {
    expect((read(ChargeRequest, body) as ChargeRequest).amountCents).toBe(value);
  });

  it.each([
    ['{"amountCents": 9223372036854775808}', 'amountCents', 'out of range for int64'],
    ['{"amountCents": 1.5}', 'amountCents', 'not an integer'],
    ['{"amountCents": 1e400}', 'amountCents', 'out of range'],
    ['{"amountCents": "0x2"}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": " 2"}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": "2 "}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": "+2"}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": "02"}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": ""}', 'amountCents', 'not a decimal number'],
    ['{"amountCents": true}', 'amount_cents', 'expected'],
  ])('refuses int64 %s naming %s', (body, field, why) => {
    const error = refusal(() => read(ChargeRequest, body));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.rawMessage).toContain(field);
    expect(error.rawMessage).toContain(why);
  });

  it.each([
    ['{"pageSize": 4294967298}', 'pageSize', 'out of range for int32'],
    ['{"pageSize": 2147483648}', 'pageSize', 'out of range for int32'],
    ['{"afterId": -1}', 'afterId', 'out of range for uint64'],
    ['{"afterId": "18446744073709551616"}', 'afterId', 'out of range for uint64'],
    ['{"minScore": 3.5e38}', 'minScore', 'out of range for float'],
    ['{"minScore": "1e400"}', 'minScore', 'out of range for float'],
    ['{"kinds": ["THING_KIND_SPOON"]}', 'kinds[0]', 'not a value of'],
    ['{"filter": {"minWeightGrams": "0x10"}}', 'filter.minWeightGrams', 'not a decimal number'],
    ['{"onlyNew": "yes"}', 'google.protobuf.BoolValue', ''],
  ])('refuses %s naming %s', (body, field, why) => {
    const error = refusal(() => read(ListThingsRequest, body));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.rawMessage).toContain(field);
    expect(error.rawMessage).toContain(why);
  });

  it.each([
    ['{"score": 1e400}', 'score', 'out of range for double'],
    ['{"score": " 1"}', 'score', 'not a valid double'],
    ['{"priority": "0x2"}', 'priority', 'not a decimal number'],
    ['{"priority": 4294967298}', 'priority', 'out of range for int32'],
    ['{"weightGrams": 9007199254740993.5}', 'weightGrams', 'not an integer'],
    ['{"createdAt": "yesterday"}', 'google.protobuf.Timestamp', 'RFC 3339'],
    ['{"ttl": "90"}', 'google.protobuf.Duration', ''],
    ['{"kind": "THING_KIND_SPOON"}', 'kind', 'not a value of warren.test.v1.ThingKind'],
    ['{"kind": 4294967296}', 'kind', 'out of range for an enum number'],
    ['{"labels": {"a": 1}}', 'labels', 'expected string'],
    ['{"id": 5}', 'id', 'expected string'],
    ['[1]', 'the body', 'must be a JSON object'],
  ])('refuses %s naming %s', (body, field, why) => {
    const error = refusal(() => read(Thing, body));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    if (field !== 'the body') expect(error.rawMessage).toContain(field);
    expect(error.rawMessage).toContain(why);
  });

  it('accepts the spellings the spec allows and writes the canonical form', () => {
    const thing = read(
      Thing,
      '{"weight_grams": "9223372036854775807", "kind": 2, "score": "NaN", "priority": "7", "createdAt": "2026-01-01T01:00:00+01:00", "ttl": "1.5s", "payload": "aGk", "tags": [], "name": null, "unknownLater": 1e400}',
    ) as Thing;
    expect(thing).toMatchObject({ weightGrams: 9223372036854775807n, kind: 2, priority: 7, tags: [] });
    expect(JSON.parse(write(Thing, thing))).toEqual({
      weightGrams: '9223372036854775807', // int64 as a string
      kind: 'THING_KIND_TOOL', // enums by name
      score: 'NaN',
      priority: 7,
      createdAt: '2026-01-01T00:00:00Z',
      ttl: '1.500s',
      payload: 'aGk=',
      // id, name, tags, labels, archived: defaults left out
    });
  });

  it('writes float specials and zero-valued wrappers', () => {
    expect(JSON.parse(write(Thing, Thing.fromPartial({ score: -Infinity, priority: 0 })))).toEqual({
      score: '-Infinity',
      priority: 0,
    });
  });
});

function refusal(run: () => unknown): RpcError {
  try {
    run();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('unknown fields when the reader refuses them (the gateway and the CLI)', () => {
  it('refuses them at every depth, a nested `__proto__` key included, naming the path', async () => {
    const { createProtoJsonCodec } = await import('./proto-json.js');
    const { descriptorRegistry } = await import('./descriptor-registry.js');
    const registry = descriptorRegistry();
    const desc = registry.getMessage('warren.test.v1.CreateThingRequest')!;
    const codec = createProtoJsonCodec(
      desc,
      registry,
      { encode: () => new Uint8Array(), decode: () => ({}) },
      'reject',
    );
    for (const [json, path] of [
      [{ thing: { colour: 'red' } }, 'thing.colour'],
      [JSON.parse('{"thing": {"__proto__": {"polluted": "yes"}}}'), 'thing.__proto__'],
    ] as const) {
      let error: unknown;
      try {
        codec.read(json);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(Code.INVALID_ARGUMENT);
      expect((error as RpcError).rawMessage).toContain(`${path}: unknown field`);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
