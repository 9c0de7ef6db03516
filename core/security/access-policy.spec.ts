import { describe, expect, it } from 'vitest';
import { PaymentServiceDefinition } from '../../gen/shop/payments/v1/payments.js';
import { CheckRequest } from '../../gen/warren/health/v1/health.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { Code } from '../protocol/code.js';
import { PROTOBUF } from '../protocol/content-type.js';
import { describeService, type ServiceDefinition } from '../protocol/definition.js';
import { createDispatcher, type MethodHandler } from '../rpc/dispatcher.js';
import { HEALTH_CHECK_PATH } from '../protocol/rpc-names.js';
import type { Logger } from '../observability/logger.js';
import { replyToError } from '../protocol/reply-error.js';
import { createAccessPolicy, type AccessPolicyOptions } from './access-policy.js';

const lines: { msg: string | undefined; fields: object }[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn(fields, msg) {
    lines.push({ msg, fields });
  },
  error() {},
  child: () => logger,
};

const CHARGE = 'shop.payments.v1.PaymentService/Charge';
const LIST = 'shop.payments.v1.PaymentService/ListPayments';

function policy(options: AccessPolicyOptions = {}, definitions: ServiceDefinition[] = [PaymentServiceDefinition]) {
  const access = createAccessPolicy({ logger, ...options });
  for (const definition of definitions) access.register(definition);
  return access;
}

describe('createAccessPolicy', () => {
  it('takes callers from the proto option and leaves methods without it open', () => {
    const access = policy();
    expect(access.callersOf(CHARGE)).toEqual(['orders']);
    expect(access.callersOf(LIST)).toBe('open');
    expect(access.check(CHARGE, 'orders')).toBeUndefined();
    expect(access.check(LIST, undefined)).toBeUndefined();
    expect(access.check(LIST, 'gateway')).toBeUndefined();
  });

  it('refuses other users with PERMISSION_DENIED and callers without identity with UNAUTHENTICATED', () => {
    const access = policy();
    const denied = access.check(CHARGE, 'gateway');
    expect(denied?.code).toBe(Code.PERMISSION_DENIED);
    expect(denied?.rawMessage).toBe(`broker user "gateway" may not call ${CHARGE}`);
    expect(access.check(CHARGE, undefined)?.code).toBe(Code.UNAUTHENTICATED);
  });

  it('lets rules override the proto option, a method rule beating a service rule', () => {
    const access = policy({ rules: { 'shop.payments.v1.PaymentService': ['ops'], [CHARGE]: ['orders', 'ops'] } });
    expect(access.callersOf(CHARGE)).toEqual(['orders', 'ops']);
    expect(access.callersOf(LIST)).toEqual(['ops']);
    expect(access.check(LIST, 'gateway')?.code).toBe(Code.PERMISSION_DENIED);
    expect(access.check(CHARGE, 'ops')).toBeUndefined();
  });

  it('allows any identified caller with "*", and applies `unlisted` to methods nobody listed', () => {
    const access = policy({ unlisted: ['*'] }, [TestServiceDefinition]);
    expect(access.check('warren.test.v1.TestService/Echo', 'anyone')).toBeUndefined();
    expect(access.check('warren.test.v1.TestService/Echo', undefined)?.code).toBe(Code.UNAUTHENTICATED);
    const closed = policy({ unlisted: [] }, [TestServiceDefinition]);
    expect(closed.check('warren.test.v1.TestService/Echo', 'anyone')?.code).toBe(Code.PERMISSION_DENIED);
  });

  it('only logs in audit mode', () => {
    lines.length = 0;
    const access = policy({ mode: 'audit' });
    expect(access.check(CHARGE, 'gateway')).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/would be refused/);
    expect(lines[0]!.fields).toMatchObject({ method: CHARGE, userId: 'gateway', allowed: ['orders'] });
  });

  it('refuses malformed rules and rules naming a method the service lacks', () => {
    expect(() => createAccessPolicy({ rules: { 'not a service': ['x'] } })).toThrow(/must name a service/);
    expect(() => createAccessPolicy({ rules: { [CHARGE]: [''] } })).toThrow(/list of broker user names/);
    expect(() => createAccessPolicy({ mode: 'strict' as never })).toThrow(/enforce/);
    const typo = createAccessPolicy({ rules: { 'shop.payments.v1.PaymentService/Charges': ['orders'] } });
    expect(() => typo.register(PaymentServiceDefinition)).toThrow(/names no method of shop.payments.v1.PaymentService/);
  });
});

describe('access policy in the dispatcher', () => {
  const methods = new Map(describeService(PaymentServiceDefinition).map((info) => [info.path, info]));
  let ran = 0;
  const handler: MethodHandler = () => {
    ran++;
    return {};
  };
  const dispatcher = createDispatcher({
    instance: 'spec',
    logger,
    interceptors: [],
    requireIdentity: false,
    authorize: policy().check,
    lookup: (_service, path) => {
      const info = methods.get(path);
      return info && { info, handler };
    },
    methodsOf: () => [...methods.keys()],
    isServing: () => true,
  });
  const send = (method: string, userId: string | undefined, body: Uint8Array) =>
    dispatcher.dispatch(PaymentServiceDefinition.fullName, {
      request: {
        service: PaymentServiceDefinition.fullName,
        method,
        contentType: PROTOBUF,
        body,
        metadata: {},
        deadline: Date.now() + 5_000,
        messageId: 'm',
      },
      unsupportedContentType: undefined,
      redelivered: false,
      userId,
    });

  it('refuses before decoding: a denied caller with a malformed body gets PERMISSION_DENIED, not INVALID_ARGUMENT', async () => {
    ran = 0;
    const garbage = new Uint8Array([0xff, 0xff, 0xff]);
    const denied = await send(CHARGE, 'gateway', garbage);
    expect(replyToError(denied!).code).toBe(Code.PERMISSION_DENIED);
    const allowed = await send(CHARGE, 'orders', garbage);
    expect(replyToError(allowed!).code).toBe(Code.INVALID_ARGUMENT);
    expect(ran).toBe(0);
    expect((await send(CHARGE, 'orders', new Uint8Array()))!.status).toBe(Code.OK);
    expect(ran).toBe(1);
  });

  it('keeps health checks open', async () => {
    const reply = await send(
      HEALTH_CHECK_PATH,
      undefined,
      CheckRequest.encode(CheckRequest.fromPartial({ service: PaymentServiceDefinition.fullName })).finish(),
    );
    expect(reply!.status).toBe(Code.OK);
  });
});

describe('user prefix', () => {
  it('maps prefixed broker users to the callers rules name, and refuses users without the prefix', () => {
    const access = policy({ userPrefix: 'staging-' });
    expect(access.check(CHARGE, 'staging-orders')).toBeUndefined();
    expect(access.check(CHARGE, 'orders')?.code).toBe(Code.PERMISSION_DENIED);
    expect(access.check(CHARGE, 'staging-')?.code).toBe(Code.PERMISSION_DENIED);
    expect(access.check(CHARGE, 'prod-orders')?.rawMessage).toBe(`broker user "prod-orders" may not call ${CHARGE}`);
  });
});
