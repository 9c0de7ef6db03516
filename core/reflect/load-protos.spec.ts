import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestTestServiceDefinition } from '../../gen/warren/test/v1/rest_test.js';
import { EchoRequest, EchoResponse, TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { Code } from '../protocol/code.js';
import { describeService } from '../protocol/definition.js';
import { RpcError } from '../protocol/rpc-error.js';
import { loadProtos, type ProtoRegistry } from './load-protos.js';

let protos: ProtoRegistry;
beforeAll(async () => {
  protos = await loadProtos({ root: 'proto' });
});

describe('loadProtos', () => {
  it('finds every service of the contracts, sorted by full name', () => {
    const names = protos.services.map((service) => service.fullName);
    expect(names).toEqual(
      expect.arrayContaining([
        'warren.health.v1.HealthService',
        'warren.test.v1.RestTestService',
        'warren.test.v1.TestService',
      ]),
    );
    expect(names).toEqual([...names].sort());
    expect(names.filter((name) => name.startsWith('google.'))).toEqual([]);
  });

  it('builds definitions shaped like the generated ones', () => {
    for (const generated of [TestServiceDefinition, RestTestServiceDefinition]) {
      const dynamic = protos.findService(generated.fullName)!;
      expect(dynamic.name).toBe(generated.name);
      const pick = (info: ReturnType<typeof describeService>[number]) => [
        info.localName,
        info.name,
        info.path,
        info.idempotency,
      ];
      expect(describeService(dynamic).map(pick)).toEqual(describeService(generated).map(pick));
    }
  });

  it('finds services by full name (with or without a leading dot) or unique short name', () => {
    expect(protos.findService('.warren.test.v1.TestService')?.fullName).toBe('warren.test.v1.TestService');
    expect(protos.findService('RestTestService')?.fullName).toBe('warren.test.v1.RestTestService');
    expect(protos.findService('NoSuchService')).toBeUndefined();
  });

  it('finds messages, including well-known types, and not other kinds of names', () => {
    expect(protos.findMessage('warren.test.v1.EchoRequest')?.fullName).toBe('warren.test.v1.EchoRequest');
    expect(protos.findMessage('google.protobuf.Timestamp')?.fullName).toBe('google.protobuf.Timestamp');
    expect(protos.findMessage('warren.test.v1.ThingKind')).toBeUndefined();
    expect(protos.findMessage('warren.test.v1.TestService')).toBeUndefined();
    expect(protos.findMessage('EchoRequest')).toBeUndefined();
  });

  it('reads google.api.http rules, additional bindings flattened', () => {
    const rest = protos.findService('warren.test.v1.RestTestService')!;
    expect(rest.methods['getThing']!.httpRules).toEqual([
      { method: 'GET', path: '/v1/things/{id}', body: '', responseBody: '' },
    ]);
    expect(rest.methods['updateThing']!.httpRules).toEqual([
      { method: 'PATCH', path: '/v1/things/{thing.id}', body: 'thing', responseBody: '' },
      { method: 'POST', path: '/v1/things/{thing.id}:update', body: 'thing', responseBody: '' },
    ]);
    expect(rest.methods['deleteThing']!.httpRules[0]).toMatchObject({ method: 'DELETE', responseBody: 'id' });
    expect(rest.methods['ping']!.httpRules).toEqual([]);
  });

  it('encodes bytes the generated code reads, and reads what it writes', () => {
    const echo = protos.findService('warren.test.v1.TestService')!.methods['echo']!;
    const request = echo.requestType.fromJSON({
      text: 'hé',
      number: '9007199254740991',
      payload: 'AQI=',
      tags: ['a', 'b'],
      sentAt: '2024-05-06T07:08:09.123Z',
    });
    const decoded = EchoRequest.decode(echo.requestType.encode(request).finish());
    expect(decoded).toMatchObject({
      text: 'hé',
      number: 9007199254740991n,
      tags: ['a', 'b'],
      sentAt: new Date('2024-05-06T07:08:09.123Z'),
    });
    expect([...decoded.payload]).toEqual([1, 2]);

    const bytes = EchoResponse.encode(
      EchoResponse.fromPartial({ text: 'x', number: -5, metadata: { k: 'v' }, remainingMs: 12 }),
    ).finish();
    expect(echo.responseType.toJSON(echo.responseType.decode(bytes))).toEqual({
      text: 'x',
      number: '-5',
      metadata: { k: 'v' },
      remainingMs: '12',
    });
  });

  it('always knows the google.rpc error details, so they decode to JSON even when no contract imports them', async () => {
    const only = await loadProtos({ root: 'proto', files: ['warren/health/v1/health.proto'] });
    const badRequest = only.findMessage('google.rpc.BadRequest');
    expect(badRequest).toBeDefined();
    const bytes = badRequest!
      .encode(badRequest!.fromJSON({ fieldViolations: [{ field: 'name', description: 'required' }] }))
      .finish();
    expect(badRequest!.toJSON(badRequest!.decode(bytes))).toEqual({
      fieldViolations: [{ field: 'name', description: 'required' }],
    });
    expect(only.services.map((service) => service.fullName)).toEqual(['warren.health.v1.HealthService']);
  });

  it('loads only the files asked for', async () => {
    const only = await loadProtos({ root: 'proto', files: ['warren/health/v1/health.proto'] });
    expect(only.services.map((service) => service.fullName)).toEqual(['warren.health.v1.HealthService']);
  });
});

describe('loadProtos failures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warren-protos-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const failure = async (promise: Promise<unknown>): Promise<RpcError> => {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(RpcError);
    return error as RpcError;
  };

  it('resolves imports from include dirs, listing only the services of the loaded files, not of imports', async () => {
    await mkdir(join(dir, 'own'), { recursive: true });
    await mkdir(join(dir, 'shared', 'acme'), { recursive: true });
    await writeFile(
      join(dir, 'shared', 'acme', 'money.proto'),
      'syntax = "proto3";\npackage acme;\nmessage Money { int64 cents = 1; }\nservice MoneyService { rpc Noop(Money) returns (Money); }\n',
    );
    await writeFile(
      join(dir, 'own', 'shop.proto'),
      'syntax = "proto3";\npackage shop;\nimport "acme/money.proto";\nimport "google/api/annotations.proto";\n' +
        'service ShopService { rpc Pay(acme.Money) returns (acme.Money) { option (google.api.http) = { post: "/pay" body: "*" }; } }\n',
    );
    const loaded = await loadProtos({ root: join(dir, 'own'), includeDirs: [join(dir, 'shared')] });
    expect(loaded.services.map((service) => service.fullName)).toEqual(['shop.ShopService']);
    expect(loaded.services[0]!.methods['pay']!.requestType.fullName).toBe('acme.Money');
    expect(loaded.findMessage('acme.Money')!.toJSON(loaded.findMessage('acme.Money')!.fromJSON({ cents: 5 }))).toEqual({
      cents: '5',
    });
  });

  it('rejects a directory without contracts', async () => {
    await mkdir(join(dir, 'empty'), { recursive: true });
    const error = await failure(loadProtos({ root: join(dir, 'empty') }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.rawMessage).toContain('no .proto files');
    expect((await failure(loadProtos({ root: join(dir, 'missing') }))).rawMessage).toContain(
      'cannot read the proto directory',
    );
  });

  it('rejects a file that does not parse, naming it', async () => {
    await mkdir(join(dir, 'broken'), { recursive: true });
    await writeFile(join(dir, 'broken', 'broken.proto'), 'syntax = "proto3";\nmessage Broken { strin name = 1; }\n');
    const error = await failure(loadProtos({ root: join(dir, 'broken') }));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.rawMessage).toMatch(/strin|broken\.proto/);
  });
});
