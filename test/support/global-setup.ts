import { connect } from 'amqplib';
import { redactUrl } from '../../core/index.js';
import { brokerUrl } from './broker.js';

/**
 * Integration suites need the real broker: if it cannot be reached the run
 * fails here, once, with a message that says how to start it. Nothing skips.
 */
export default async function setup(): Promise<void> {
  const url = brokerUrl();
  try {
    const connection = await connect(url);
    await connection.close();
  } catch (error) {
    throw new Error(
      `RabbitMQ is not reachable at ${redactUrl(url)} (${(error as Error).message}).\n` +
        'Start it with `rabbitmq-server -detached` (or set AMQP_URL), then run the tests again.',
      { cause: error },
    );
  }
}
