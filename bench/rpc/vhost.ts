import { createVhost, type TestVhost } from '../../test/support/broker.js';

/** A throw-away vhost so benchmark queues never meet test queues. */
export type BenchVhost = TestVhost;

/** Creates `warren-bench-<pid>-<hex>` with rabbitmqctl (which must run where the broker runs). */
export async function createBenchVhost(brokerUrl: string): Promise<BenchVhost> {
  try {
    return await createVhost('warren-bench', brokerUrl);
  } catch (error) {
    throw new Error(
      `cannot create the bench vhost with rabbitmqctl (is the broker local and running?): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
