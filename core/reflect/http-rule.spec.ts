import { describe, expect, it } from 'vitest';
import { HTTP_OPTION, readHttpRules } from './http-rule.js';

describe('readHttpRules', () => {
  it('reads every verb, custom kinds and bodies', () => {
    const rules = readHttpRules('m', [
      { idempotency_level: 'IDEMPOTENT' },
      {
        [HTTP_OPTION]: {
          custom: { kind: 'head', path: '/v1/a' },
          additional_bindings: [
            { put: '/v1/b/{id}', body: '*' },
            { get: '/v1/c', response_body: 'items' },
          ],
        },
      },
    ]);
    expect(rules).toEqual([
      { method: 'HEAD', path: '/v1/a', body: '', responseBody: '' },
      { method: 'PUT', path: '/v1/b/{id}', body: '*', responseBody: '' },
      { method: 'GET', path: '/v1/c', body: '', responseBody: 'items' },
    ]);
  });

  it('takes a single additional binding as protobufjs gives it (an object)', () => {
    expect(
      readHttpRules('m', [{ [HTTP_OPTION]: { post: '/a', body: 'x', additional_bindings: { delete: '/b' } } }]).map(
        (r) => r.method,
      ),
    ).toEqual(['POST', 'DELETE']);
  });

  it('is empty without the annotation', () => {
    expect(readHttpRules('m', undefined)).toEqual([]);
    expect(readHttpRules('m', [{ deprecated: true }])).toEqual([]);
  });

  it('refuses rules without a path and nested additional bindings, naming the method', () => {
    expect(() => readHttpRules('pkg.S/M', [{ [HTTP_OPTION]: { body: '*' } }])).toThrow(/pkg\.S\/M/);
    expect(() =>
      readHttpRules('pkg.S/M', [
        { [HTTP_OPTION]: { get: '/a', additional_bindings: { get: '/b', additional_bindings: { get: '/c' } } } },
      ]),
    ).toThrow(/must not nest/);
  });
});
