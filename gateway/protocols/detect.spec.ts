import { describe, expect, it } from 'vitest';
import { decodeBase64Chunks } from './grpc-web.js';
import { detectWire, methodPathOf } from './detect.js';

describe('protocol detection', () => {
  const path = '/shop.inventory.v1.InventoryService/GetStock';
  it('tells the gRPC family apart by content type and path', () => {
    expect(detectWire('POST', path, '', { 'content-type': 'application/grpc' })).toBe('grpc');
    expect(detectWire('POST', path, '', { 'content-type': 'application/grpc+proto' })).toBe('grpc');
    expect(detectWire('POST', path, '', { 'content-type': 'application/grpc-web+proto' })).toBe('grpc-web');
    expect(detectWire('POST', path, '', { 'content-type': 'application/grpc-web-text' })).toBe('grpc-web-text');
    expect(detectWire('POST', path, '', { 'content-type': 'application/connect+json' })).toBe('connect-stream');
    expect(detectWire('POST', path, '', { 'content-type': 'application/json' })).toBe('connect');
    expect(detectWire('POST', path, '', { 'content-type': 'application/proto' })).toBe('connect');
    expect(detectWire('GET', path, 'connect=v1&encoding=json&message=%7B%7D', {})).toBe('connect-get');
  });

  it('leaves the JSON routes and operations alone', () => {
    expect(
      detectWire('POST', '/rpc/shop.inventory.v1.InventoryService/GetStock', '', {
        'content-type': 'application/json',
      }),
    ).toBeUndefined();
    expect(detectWire('GET', '/v1/stock/MUG', '', {})).toBeUndefined();
    expect(detectWire('GET', '/healthz', '', {})).toBeUndefined();
    expect(detectWire('GET', path, '', {})).toBeUndefined();
    expect(detectWire('POST', '/Service/Method', '', { 'content-type': 'application/json' })).toBeUndefined();
    expect(methodPathOf('/a.B/C')).toBe('a.B/C');
    expect(methodPathOf('/a.B/C/D')).toBeUndefined();
  });

  it('decodes grpc-web-text bodies made of several padded base64 chunks', () => {
    const text = Buffer.from('ab').toString('base64') + Buffer.from('cde').toString('base64');
    expect(decodeBase64Chunks(text).toString()).toBe('abcde');
    expect(() => decodeBase64Chunks('ab$c')).toThrow();
  });
});
