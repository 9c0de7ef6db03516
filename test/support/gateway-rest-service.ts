import { Code, RpcError, type ServiceImplementation } from '../../core/index.js';
import type { RestTestServiceDefinition } from '../../gen/warren/test/v1/rest_test.js';

/**
 * The RestTestService implementation the gateway suites call: handlers echo
 * what they received (so a test sees exactly how HTTP was mapped) and a few
 * ids produce typed failures: `missing` → NOT_FOUND, `exists` → ALREADY_EXISTS.
 */
export function restTestService(): ServiceImplementation<typeof RestTestServiceDefinition> {
  return {
    getThing(request) {
      if (request.id === 'missing') throw new RpcError(Code.NOT_FOUND, `thing ${request.id} not found`);
      return { thing: { id: request.id, name: request.readMask?.join(',') ?? 'full' } };
    },
    listThings(request) {
      return { received: request, things: [] };
    },
    createThing(request) {
      if (request.thing?.id === 'exists')
        throw new RpcError(Code.ALREADY_EXISTS, `thing ${request.thing.id} already exists`);
      return { thing: request.thing, shelf: request.shelf };
    },
    updateThing(request) {
      return { thing: request.thing, updateMask: request.updateMask };
    },
    cancelThing(request) {
      return { id: request.id, reason: request.reason, cancelled: true };
    },
    deleteThing(request) {
      return { id: request.id };
    },
    getShelf(request) {
      return { name: request.name };
    },
    ping(request) {
      return { text: request.text };
    },
  };
}
