import { describe, expect, it } from 'vitest';
import { matchPathTemplate, parsePathTemplate, PathDecodeError } from './path-template.js';

const match = (template: string, path: string): Record<string, string> | undefined => {
  const values = matchPathTemplate(parsePathTemplate(template), path);
  return values && Object.fromEntries(values);
};

describe('path templates', () => {
  it('matches literals and single-segment variables, percent-decoded', () => {
    expect(match('/v1/things/{id}', '/v1/things/a%20b')).toEqual({ id: 'a b' });
    expect(match('/v1/things/{id}', '/v1/things')).toBeUndefined();
    expect(match('/v1/things/{id}', '/v1/things/a/b')).toBeUndefined();
    expect(match('/v1/things/{id}', '/v1/things/')).toBeUndefined();
    expect(match('/v1/things/{id}', '/v2/things/a')).toBeUndefined();
  });

  it('sets nested fields and several variables', () => {
    expect(match('/v1/shelves/{shelf}/things/{thing.id}', '/v1/shelves/s/things/t')).toEqual({
      shelf: 's',
      'thing.id': 't',
    });
  });

  it('matches custom verbs only with the verb', () => {
    expect(match('/v1/things/{id}:cancel', '/v1/things/t:cancel')).toEqual({ id: 't' });
    expect(match('/v1/things/{id}:cancel', '/v1/things/t')).toBeUndefined();
    expect(match('/v1/things/{id}:cancel', '/v1/things/t:undo')).toBeUndefined();
  });

  it('matches multi-segment variables keeping slashes and %2F', () => {
    expect(match('/v1/{name=shelves/*}', '/v1/shelves/a')).toEqual({ name: 'shelves/a' });
    expect(match('/v1/{name=shelves/*}', '/v1/books/a')).toBeUndefined();
    expect(match('/v1/{name=shelves/*/things/*}:get', '/v1/shelves/a%2Fb/things/c%20d:get')).toEqual({
      name: 'shelves/a%2Fb/things/c d',
    });
    expect(match('/files/{path=**}', '/files/a/b/c')).toEqual({ path: 'a/b/c' });
    expect(match('/files/{path=**}', '/files')).toEqual({ path: '' });
    expect(match('/v1/*/things', '/v1/any/things')).toEqual({});
  });

  it('ranks literal segments, then verbs, above wildcards', () => {
    const specific = parsePathTemplate('/v1/things/{id}:cancel').specificity;
    expect(specific).toBeGreaterThan(parsePathTemplate('/v1/things/{id}').specificity);
    expect(parsePathTemplate('/v1/things/{id}').specificity).toBeGreaterThan(
      parsePathTemplate('/v1/{name=**}').specificity,
    );
  });

  it('refuses malformed templates', () => {
    for (const bad of ['v1/things', '/v1/{id', '/v1/{a{b}}', '/v1/{1x}', '/v1/**/things', '/v1/th ings', '/v1/x:b c']) {
      expect(() => parsePathTemplate(bad), bad).toThrow(TypeError);
    }
  });

  it('throws PathDecodeError for a malformed escape in a variable', () => {
    expect(() => match('/v1/things/{id}', '/v1/things/%E0%A4%A')).toThrow(PathDecodeError);
  });
});
