import { EchoRequest } from '../../gen/warren/test/v1/test.js';

/** A seeded PRNG (mulberry32) with the helpers the fuzz suite needs; the same seed gives the same inputs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Printable ASCII. */
  ascii(
    n: number,
    alphabet = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
  ): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
  /** Any valid Unicode (no lone surrogates): ASCII, controls, accents, CJK, emoji. */
  unicode(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) {
      const range = this.int(5);
      const code =
        range === 0
          ? this.int(0x80)
          : range === 1
            ? 0x80 + this.int(0x780)
            : range === 2
              ? 0x4e00 + this.int(0x5000)
              : range === 3
                ? 0x1f300 + this.int(0x300)
                : 0xe000 + this.int(0x1000);
      out += String.fromCodePoint(code);
    }
    return out;
  }
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** An HTTP token (header name or method) of 1..n characters. */
export function token(rng: Rng, n = 20): string {
  return rng.ascii(1 + rng.int(n), TOKEN_CHARS);
}

/** A random JSON value, nested up to `depth`, with odd numbers and strings. */
export function jsonValue(rng: Rng, depth = 4): unknown {
  const kind = rng.int(depth <= 0 ? 5 : 8);
  switch (kind) {
    case 0:
      return rng.pick([0, -0, 1.5, -1, 2 ** 53 + 2, 1e308, 5e-324, Number.MAX_SAFE_INTEGER, 4294967296, -2147483649]);
    case 1:
      return rng.chance(0.5)
        ? rng.unicode(rng.int(40))
        : rng.pick([
            '',
            'NaN',
            'Infinity',
            '-1',
            '1e999',
            '9'.repeat(40),
            'THING_KIND_BOOK',
            '2026-01-01T00:00:00Z',
            '1.5s',
            'AAAA',
            '__proto__',
          ]);
    case 2:
      return rng.chance(0.5);
    case 3:
      return null;
    case 4:
      return rng.int(1000);
    case 5:
    case 6: {
      const object: Record<string, unknown> = {};
      const keys = [
        'text',
        'number',
        'payload',
        'tags',
        'sentAt',
        'sent_at',
        'id',
        'thing',
        'kind',
        'labels',
        'readMask',
        'pageSize',
        '__proto__',
        'constructor',
        'code',
        'message',
        'plainError',
      ];
      for (let i = rng.int(5); i > 0; i--)
        Object.defineProperty(object, rng.chance(0.8) ? rng.pick(keys) : rng.unicode(1 + rng.int(8)), {
          value: jsonValue(rng, depth - 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      return object;
    }
    default:
      return Array.from({ length: rng.int(5) }, () => jsonValue(rng, depth - 1));
  }
}

/** A request body: valid, nearly valid, or hostile. */
export function httpBody(rng: Rng): { body: Buffer; kind: string } {
  const kind = rng.pick([
    'valid',
    'valid',
    'json',
    'json',
    'json',
    'deep-array',
    'deep-object',
    'huge-number',
    'bad-utf8',
    'bytes',
    'protobuf',
    'empty',
    'big-string',
    'nul',
  ]);
  switch (kind) {
    case 'valid':
      return {
        kind,
        body: Buffer.from(
          JSON.stringify({ text: rng.unicode(rng.int(30)), number: String(rng.int(1e6)), tags: [rng.ascii(3)] }),
        ),
      };
    case 'json':
      return { kind, body: Buffer.from(JSON.stringify(jsonValue(rng)) ?? 'null') };
    case 'deep-array': {
      const depth = rng.pick([100, 10_000, 200_000]);
      return { kind, body: Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`) };
    }
    case 'deep-object': {
      const depth = rng.pick([100, 10_000, 100_000]);
      return { kind, body: Buffer.from(`${'{"text":'.repeat(depth)}1${'}'.repeat(depth)}`) };
    }
    case 'huge-number':
      return {
        kind,
        body: Buffer.from(
          `{"number": ${rng.pick(['1e999', '-1e999', '9'.repeat(400), '0.' + '0'.repeat(400) + '1', '123456789012345678901234567890'])}, "text": ${rng.pick(['1e400', '"x"'])}}`,
        ),
      };
    case 'bad-utf8':
      return {
        kind,
        body: Buffer.concat([
          Buffer.from('{"text":"'),
          rng.bytes(1 + rng.int(20)).map((b) => b | 0x80),
          Buffer.from('"}'),
        ]),
      };
    case 'bytes':
      return { kind, body: rng.bytes(rng.int(300)) };
    case 'protobuf':
      return {
        kind,
        body: Buffer.from(
          EchoRequest.encode(
            EchoRequest.fromPartial({ text: rng.unicode(10), number: rng.int(1000), tags: ['a'] }),
          ).finish(),
        ),
      };
    case 'empty':
      return { kind, body: Buffer.alloc(0) };
    case 'big-string':
      return { kind, body: Buffer.from(JSON.stringify({ text: 'x'.repeat(rng.pick([1000, 500_000, 1_100_000])) })) };
    default:
      return { kind, body: Buffer.from('{"text":"a\\u0000b\u0000c"}') };
  }
}

/** Content types, true and false. */
export function contentType(rng: Rng): string | undefined {
  return rng.pick([
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/JSON; charset="UTF-8"',
    'application/json; charset=latin1',
    'application/x-protobuf',
    'application/protobuf',
    'text/plain',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    ';;;',
    token(rng),
    undefined,
  ]);
}

/** Gateway paths: real routes, near misses and junk. */
export function httpPath(rng: Rng): string {
  const segment = (): string =>
    rng.pick([
      rng.ascii(1 + rng.int(10), 'abcxyz0189-_.~'),
      '%2F',
      '%ZZ',
      '%00',
      '%E2%82',
      '..',
      '.',
      '',
      encodeURIComponent(rng.unicode(3)),
      '*',
      ':cancel',
      'a'.repeat(2000),
    ]);
  const path = rng.pick([
    () => '/rpc/warren.test.v1.TestService/Echo',
    () => '/rpc/warren.test.v1.TestService/Echo',
    () => '/rpc/warren.test.v1.TestService/Fail',
    () => '/rpc/warren.test.v1.RestTestService/ListThings',
    () => '/rpc/warren.health.v1.HealthService/Check',
    () => '/rpc/shop.orders.v1.OrderService/CreateOrder',
    () => `/rpc/${segment()}/${segment()}`,
    () => `/v1/things/${segment()}`,
    () => `/v1/things/${segment()}:cancel`,
    () => `/v1/shelves/${segment()}/things`,
    () => `/v1/shelves/${segment()}`,
    () => rng.pick(['/healthz', '/readyz', '/metrics', '/openapi.json']),
    () => `/${Array.from({ length: rng.int(6) }, segment).join('/')}`,
    () => `//${segment()}`,
  ])();
  if (!rng.chance(0.3)) return path;
  const query = Array.from(
    { length: 1 + rng.int(4) },
    () =>
      `${rng.pick(['page_size', 'pageSize', 'tags', 'filter.kind', 'filter.min_weight_grams', '__proto__.x', 'constructor.prototype.x', 'only_new', 'after_id', 'x', '', '%ZZ'])}=${rng.pick(['1', '-1', '1e999', 'THING_KIND_BOOK', 'true', '%ZZ', '', encodeURIComponent(rng.unicode(4)), '99999999999999999999999'])}`,
  ).join('&');
  return `${path}?${query}`;
}

/** A raw, often malformed, HTTP/1.1 request (or no HTTP at all). */
export function rawRequest(rng: Rng, apiKey: string): Buffer {
  const line = (s: string): string => `${s}\r\n`;
  return rng.pick([
    () => rng.bytes(1 + rng.int(500)),
    () => Buffer.from(line(`${token(rng, 30)} /${rng.ascii(rng.int(50))} HTTP/1.1`) + line('Host: x') + '\r\n'),
    () => Buffer.from(line(`GET /v1/stock HTTP/${rng.pick(['0.9', '2.0', '1.1x', '9'])}`) + line('Host: x') + '\r\n'),
    () => Buffer.from(line('GET /healthz HTTP/1.1') + line('Host: x') + line(`X-Fold: a`) + line(' folded') + '\r\n'),
    () => Buffer.from(line('GET /healthz HTTP/1.1') + line('Host: x') + line('No colon here') + '\r\n'),
    () =>
      Buffer.concat([
        Buffer.from(line('GET /healthz HTTP/1.1') + 'Host: x\r\nX-Nul: a'),
        Buffer.from([0]),
        Buffer.from('b\r\n\r\n'),
      ]),
    () =>
      Buffer.from(
        line('POST /rpc/warren.test.v1.TestService/Echo HTTP/1.1') +
          line('Host: x') +
          line(`x-api-key: ${apiKey}`) +
          line('Transfer-Encoding: chunked') +
          line('Content-Type: application/json') +
          '\r\n' +
          line(rng.pick(['ZZ', '-1', 'ffffffffffffffff', '2;ext=1'])) +
          '{}\r\n0\r\n\r\n',
      ),
    () =>
      Buffer.from(
        line('POST /rpc/warren.test.v1.TestService/Echo HTTP/1.1') +
          line('Host: x') +
          line(`x-api-key: ${apiKey}`) +
          line('Content-Length: 2') +
          line('Transfer-Encoding: chunked') +
          '\r\n' +
          '0\r\n\r\n',
      ),
    () =>
      Buffer.from(
        line('POST /rpc/warren.test.v1.TestService/Echo HTTP/1.1') +
          line('Host: x') +
          line(`x-api-key: ${apiKey}`) +
          line(`Content-Length: ${rng.pick(['-1', 'abc', '1, 2', '99999999999999999999'])}`) +
          '\r\n{}',
      ),
    () =>
      Buffer.from(
        line('POST /rpc/warren.test.v1.TestService/Echo HTTP/1.1') +
          line('Host: x') +
          line(`x-api-key: ${apiKey}`) +
          line('Content-Length: 2') +
          line('Content-Length: 3') +
          '\r\n{}',
      ),
    () => Buffer.from(line(`GET /${'a'.repeat(20_000)} HTTP/1.1`) + line('Host: x') + '\r\n'),
    () =>
      Buffer.from(
        line('GET /healthz HTTP/1.1') +
          line('Host: x') +
          Array.from({ length: 300 }, (_, i) => line(`x-h${i}: v`)).join('') +
          '\r\n',
      ),
    () =>
      Buffer.from(
        line('GET /healthz HTTP/1.1') +
          line('Host: x') +
          '\r\n' +
          line('GET /readyz HTTP/1.1') +
          line('Host: x') +
          '\r\n',
      ),
  ])();
}

/** One fuzzed AMQP request, and what the server should do with it. */
export interface FuzzedAmqpRequest {
  readonly routingKey: string;
  readonly body: Buffer;
  readonly properties: Record<string, unknown>;
  /** `reply`: a reply with a Warren status must come; `none`: nothing may come (dropped by rule); `maybe`: either. */
  readonly expect: 'reply' | 'none' | 'maybe';
  /** Properties the broker itself refuses (it closes the channel): publish on a throwaway channel. */
  readonly risky: boolean;
}

const SERVICE = 'warren.test.v1.TestService';

/**
 * A request for TestService as a peer in another language could send it,
 * with random and broken properties. Only methods that answer at once are
 * called (Echo, Fail, Relay, the health check, unknown ones): Sleep and
 * Increment take their delays from the body and would hold replies back.
 */
export function amqpRequest(rng: Rng, seq: number): FuzzedAmqpRequest {
  const now = Date.now();
  let expect: FuzzedAmqpRequest['expect'] = 'reply';
  let risky = false;
  const headers: Record<string, unknown> = {};

  // warren-deadline: what PROTOCOL.md allows (integers, decimal strings) and what it does not (then the default applies)
  const deadline = rng.int(16);
  if (deadline === 1) headers['warren-deadline'] = now + 5_000 + rng.int(20_000);
  else if (deadline === 2) headers['warren-deadline'] = String(now + 10_000);
  else if (deadline === 3) {
    headers['warren-deadline'] = now - 1 - rng.int(100_000);
    expect = 'none';
  } else if (deadline === 4) headers['warren-deadline'] = rng.pick(['soon', '', 'now+5', '1e20', ' 123', '0x10']);
  else if (deadline === 5) {
    headers['warren-deadline'] = rng.pick([0, -5, '0', '-5']);
    expect = 'none';
  } else if (deadline === 6) {
    headers['warren-deadline'] = rng.pick([true, { a: 1 }, [1, 2], Buffer.from('123'), null]);
    // protocol 2 reads a byte string as its text (PROTOCOL.md §3): "123" is 123 ms after the epoch, long expired
    if (Buffer.isBuffer(headers['warren-deadline'])) expect = 'none';
  }
  // (not Infinity: RabbitMQ 3.10 closes the publisher's connection with 541 on a non-finite double header)
  else if (deadline === 7)
    headers['warren-deadline'] = rng.pick([now + 10_000.5, Number.MAX_SAFE_INTEGER, 1e300, Number.NaN]);
  else if (deadline === 8) headers['warren-deadline'] = now + 10_000;

  // metadata: odd keys and values of every AMQP type
  for (let i = rng.int(6); i > 0; i--) {
    const key = rng.pick([
      'tenant-id',
      'traceparent',
      'auth-subject',
      'x-custom',
      'warren-status',
      'warren-message',
      'UPPER',
      token(rng, 12).toLowerCase(),
      rng.unicode(1 + rng.int(5)),
      'k'.repeat(1 + rng.int(200)),
    ]);
    headers[key] = rng.pick<() => unknown>([
      () => rng.unicode(rng.int(50)),
      () => rng.ascii(rng.int(3000)),
      () => rng.int(2 ** 31) - 2 ** 30,
      () => rng.next() * 1e10,
      () => rng.chance(0.5),
      () => ({ nested: rng.unicode(4), n: rng.int(10) }),
      () => [rng.int(10), rng.unicode(3)],
      () => rng.bytes(rng.int(64)),
      () => null,
    ])();
  }

  const type = rng.pick([
    `${SERVICE}/Echo`,
    `${SERVICE}/Echo`,
    `${SERVICE}/Fail`,
    `${SERVICE}/Relay`,
    'warren.health.v1.HealthService/Check',
    `${SERVICE}/Nope`,
    `${SERVICE}/`,
    '/Echo',
    '',
    undefined,
    rng.unicode(1 + rng.int(40)),
  ]);
  const properties: Record<string, unknown> = {
    correlationId: `f${seq}-${rng.chance(0.5) ? rng.ascii(rng.int(60)) : rng.unicode(rng.int(20))}`,
    replyTo: 'amq.rabbitmq.reply-to',
    contentType: rng.pick([
      'application/x-protobuf',
      'application/x-protobuf',
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      '',
      undefined,
      rng.ascii(1 + rng.int(100)),
    ]),
    headers,
  };
  if (type !== undefined) properties['type'] = type;
  if (rng.chance(0.3)) properties['messageId'] = rng.chance(0.5) ? rng.unicode(rng.int(30)) : rng.ascii(rng.int(250));
  if (rng.chance(0.3)) properties['timestamp'] = rng.pick([0, 1, now, Math.floor(now / 1000), 2 ** 40, 2 ** 52]);
  if (rng.chance(0.2)) properties['priority'] = rng.int(256);
  if (rng.chance(0.2)) properties['deliveryMode'] = rng.pick([1, 2]);
  if (rng.chance(0.1)) properties['userId'] = 'guest';

  // reply addresses a server must never publish to, and missing ones
  const reply = rng.int(20);
  if (reply === 0) {
    properties['replyTo'] = rng.pick([
      'victim-queue',
      '',
      'amq.rabbitmq.reply-to.garbage',
      `amq.rabbitmq.reply-to.${rng.ascii(40, 'abcdefghijklmnopqrstuvwxyz0123456789+/=')}`,
      rng.unicode(10),
    ]);
    expect = 'none';
  } else if (reply === 1) {
    delete properties['replyTo'];
    expect = 'none';
  } else if (reply === 2) {
    delete properties['correlationId'];
    if (expect === 'reply') expect = 'maybe';
  }

  // expiration: valid, tiny (may expire unread), and values the broker refuses
  const expiration = rng.int(20);
  if (expiration === 0) properties['expiration'] = String(30_000 + rng.int(30_000));
  else if (expiration === 1) {
    properties['expiration'] = rng.pick(['0', '1']);
    if (expect === 'reply') expect = 'maybe';
  } else if (expiration === 2) {
    properties['expiration'] = rng.pick(['abc', '-1', '1.5', ' ', '99999999999999999999']);
    risky = true;
  }
  if (rng.chance(0.02)) {
    properties['userId'] = rng.pick(['mallory', rng.ascii(10)]);
    risky = true;
  }

  const body = rng.pick<() => Buffer>([
    () =>
      Buffer.from(
        EchoRequest.encode(EchoRequest.fromPartial({ text: rng.unicode(rng.int(30)), number: rng.int(1e6) })).finish(),
      ),
    () => rng.bytes(rng.int(2000)),
    () => Buffer.from(JSON.stringify(jsonValue(rng)) ?? 'null'),
    () =>
      Buffer.from(
        JSON.stringify({
          text: rng.unicode(10),
          code: rng.pick([0, 3, 5, 13, 16, 17, 99, -1, 2 ** 31 - 1]),
          message: rng.unicode(20),
        }),
      ),
    () => Buffer.from(`${'['.repeat(50_000)}${']'.repeat(50_000)}`),
    () => Buffer.concat([Buffer.from('{"text":"'), rng.bytes(10).map((b) => b | 0x80), Buffer.from('"}')]),
    () => Buffer.alloc(0),
  ])();
  const routingKey = rng.chance(0.97) ? SERVICE : rng.ascii(1 + rng.int(50));
  if (routingKey !== SERVICE) expect = 'none';
  return { routingKey, body, properties, expect, risky };
}
