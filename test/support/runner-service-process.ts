/**
 * A TestService run by the public `runService` (warren), as a real child process: what a user's service main looks
 * like. Env: AMQP_URL and everything `runService` reads.
 */
import { runService } from 'warren';
import { TestServiceDefinition } from '../../core/testing.js';
import { testService } from '../../core/testing/test-service.js';

await runService({
  name: 'runner',
  setup({ server, transport }) {
    server.add(TestServiceDefinition, testService('runner', transport).implementation);
  },
});
