import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../core/index.js';
import { loadContracts, type Contracts } from './contracts.js';
import { CliError, ExitCode } from './exit-codes.js';

const PROTO = fileURLToPath(new URL('../proto', import.meta.url));

describe('contracts', () => {
  let contracts: Contracts;
  beforeAll(async () => {
    contracts = await loadContracts(PROTO, 'call');
  });

  it('resolves a method by slash or dot, full or short service name, proto or camel method name', () => {
    for (const name of [
      'warren.test.v1.TestService/Echo',
      'warren.test.v1.TestService.Echo',
      'TestService/Echo',
      'TestService/echo',
    ]) {
      const { info } = contracts.method(name);
      expect(info).toMatchObject({
        service: 'warren.test.v1.TestService',
        name: 'Echo',
        path: 'warren.test.v1.TestService/Echo',
        idempotency: 'NO_SIDE_EFFECTS',
      });
    }
  });

  it('names what exists when a service or method does not, as a usage error', () => {
    const failure = (run: () => unknown): CliError => {
      try {
        run();
      } catch (error) {
        return error as CliError;
      }
      throw new Error('expected a failure');
    };
    const method = failure(() => contracts.method('TestService/Nope'));
    expect([method.exitCode, method.code, method.message]).toEqual([
      ExitCode.USAGE,
      Code.NOT_FOUND,
      'no method "Nope" in warren.test.v1.TestService (methods: Echo, Sleep, Fail, Increment, Relay)',
    ]);
    expect(failure(() => contracts.method('Missing/Echo')).message).toMatch(
      /^no service "Missing" in .*\(services: .*warren\.test\.v1\.TestService/,
    );
    expect(failure(() => contracts.method('Echo')).code).toBe(Code.INVALID_ARGUMENT);
  });

  it('describes services, methods, messages and enums by full or unique short name', () => {
    expect(contracts.describe('TestService').kind).toBe('service');
    expect(contracts.describe('TestService/Sleep').kind).toBe('method');
    expect(contracts.describe('warren.test.v1.EchoRequest').kind).toBe('message');
    expect(contracts.describe('EchoRequest').kind).toBe('message');
    expect(contracts.describe('CheckResponse.ServingStatus').kind).toBe('enum');
    expect(() => contracts.describe('NoSuchThing')).toThrow(/^nothing named "NoSuchThing"/);
  });

  it('leaves the built-in health service out of the services to list and check', () => {
    expect(contracts.services.map((service) => service.fullName)).toContain('warren.test.v1.TestService');
    expect(contracts.services.map((service) => service.fullName)).not.toContain('warren.health.v1.HealthService');
  });

  it('fails with exit 2 when the proto directory does not load', async () => {
    await expect(loadContracts('/nonexistent/protos', 'list')).rejects.toMatchObject({
      exitCode: ExitCode.USAGE,
      code: Code.INVALID_ARGUMENT,
    });
  });
});
