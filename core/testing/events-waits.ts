import { type DeadLetter, type EventBus, RpcError } from '../index.js';

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The RpcError a promise rejects with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw new Error(`expected an RpcError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection');
}

/** Polls a group's dead letters until there are `count`. */
export async function waitForDeadLetters(events: EventBus, group: string, count: number): Promise<DeadLetter[]> {
  let letters: DeadLetter[] = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    letters = await events.deadLetters(group).catch(() => []);
    if (letters.length >= count) return letters;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${count} dead letters in ${group} (have ${letters.length})`);
}
