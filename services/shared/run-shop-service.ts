/**
 * How the shop runs each of its services: Warren's `runService` with the shop's broker user per service
 * (`<NAME>_AMQP_URL`, else `AMQP_URL`) and its access control (`WARREN_ACCESS`, see ./security.ts).
 */
import { runService, type RunServiceOptions } from 'warren';
import { brokerUser, serviceAccess, serviceBrokerUrl } from './security.js';

/** Runs one shop service: `runService` plus the shop's broker user and access policies. */
export function runShopService(options: Pick<RunServiceOptions, 'name' | 'setup'>): Promise<void> {
  const url = serviceBrokerUrl(options.name);
  const user = brokerUser(url);
  return runService({
    ...options,
    url,
    connectionName: `shop-${options.name}-${process.pid}`,
    access(logger) {
      const access = serviceAccess(user, logger);
      return { ...access, describe: { user: access.user, access: access.mode } };
    },
  });
}
