import { Code, createClient, RpcError, type ServiceImplementation, type Transport } from '../index.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';

/** What a test implementation records, so tests can check what really ran. */
export interface TestServiceLedger {
  /** Handler starts, by method, with the message id and time left. */
  readonly started: { method: string; messageId: string; remainingMs: number }[];
  /** Counter values kept by Increment. */
  readonly counters: Map<string, number>;
}

/**
 * The TestService implementation used by suites, benchmarks and child-process
 * servers. `relayTo` is the transport Relay calls Echo through.
 */
export function testService(
  instance: string,
  relayTo?: Transport,
): { implementation: ServiceImplementation<typeof TestServiceDefinition>; ledger: TestServiceLedger } {
  const ledger: TestServiceLedger = { started: [], counters: new Map() };
  const relay = relayTo ? createClient(TestServiceDefinition, relayTo) : undefined;
  const note = (method: string, ctx: { messageId: string; timeRemaining(): number }): void => {
    ledger.started.push({ method, messageId: ctx.messageId, remainingMs: ctx.timeRemaining() });
  };
  const implementation: ServiceImplementation<typeof TestServiceDefinition> = {
    echo(request, ctx) {
      note('echo', ctx);
      return {
        ...request,
        metadata: ctx.metadata,
        remainingMs: ctx.timeRemaining(),
        caller: ctx.caller.userId ?? '',
        instance,
      };
    },
    async sleep(request, ctx) {
      note('sleep', ctx);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, request.millis);
        if (!request.ignoreAbort) {
          ctx.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(ctx.signal.reason);
            },
            { once: true },
          );
        }
      });
      return { sleptMs: request.millis, instance };
    },
    fail(request, ctx) {
      note('fail', ctx);
      if (request.plainError) throw new Error(`secret internal detail: ${request.message}`);
      throw new RpcError(request.code as Code, request.message, { metadata: { 'failed-by': instance } });
    },
    async increment(request, ctx) {
      note('increment', ctx);
      if (request.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, request.delayMs));
      const value = (ledger.counters.get(request.counter) ?? 0) + (request.by || 1);
      ledger.counters.set(request.counter, value);
      return { value, instance };
    },
    async relay(request, ctx) {
      note('relay', ctx);
      if (!relay) throw new RpcError(Code.FAILED_PRECONDITION, 'this instance has no relay target');
      const echoed = await relay.echo({ text: request.text });
      return { echoed, remainingMs: ctx.timeRemaining() };
    },
  };
  return { implementation, ledger };
}
