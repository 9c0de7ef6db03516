/**
 * A container health check (docker-compose.yml): asks one live instance of
 * a service, over the broker, for its status with Warren's built-in
 * `warren.health.v1.HealthService/Check` on the service's own queue.
 *
 * ```sh
 * node services/dist/services/shared/health-check.js shop.orders.v1.OrderService
 * ```
 *
 * Exit 0 when an instance answered SERVING within HEALTH_TIMEOUT_MS
 * (default 3000), else 1 with the reason on stderr.
 */
import { connectAmqp, RpcError } from 'warren';
import { createMethodCaller } from 'warren/tooling';
import { HEALTH_CHECK_PATH } from 'warren/protocol';
import {
  CheckRequest,
  CheckResponse,
  CheckResponse_ServingStatus,
  checkResponse_ServingStatusToJSON,
} from '../../gen/warren/health/v1/health.js';
import { envInteger } from './env.js';

const service = process.argv[2];
if (service === undefined || service === '') {
  process.stderr.write('usage: health-check.ts <package.Service>\n');
  process.exit(2);
}
const timeoutMs = envInteger('HEALTH_TIMEOUT_MS', 3000, { min: 1 });
let healthy = false;
try {
  const transport = await connectAmqp({ connectionName: `health-check-${process.pid}` });
  try {
    const check = createMethodCaller(
      {
        service,
        name: 'Check',
        path: HEALTH_CHECK_PATH,
        localName: 'check',
        idempotency: 'NO_SIDE_EFFECTS',
        requestType: CheckRequest,
        responseType: CheckResponse,
      },
      transport,
    );
    const answer = (await check({ service }, { timeoutMs })) as CheckResponse;
    healthy = answer.status === CheckResponse_ServingStatus.SERVING_STATUS_SERVING;
    process.stdout.write(
      `${service}: ${checkResponse_ServingStatusToJSON(answer.status)} (instance ${answer.instance})\n`,
    );
  } finally {
    await transport.close();
  }
} catch (error) {
  process.stderr.write(`${service}: ${error instanceof RpcError ? error.message : String(error)}\n`);
}
process.exit(healthy ? 0 : 1);
