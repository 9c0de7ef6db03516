import { serviceDeadLetterQueue as rpcDeadLetterQueue, serviceQueue } from '../core/protocol/index.js';
import { brokerUrl, openInspector, type QueueState } from './broker.js';
import type { ListInput } from './commands.js';
import { HEALTH_SERVICE, loadContracts } from './contracts.js';
import { idempotencyLabel, routeText } from './contract-view.js';
import { ExitCode } from './exit-codes.js';
import { formatTable } from './output.js';

/** What a passive declare of a service queue says about the service. */
export type ServiceStatus = 'live' | 'down' | 'absent';

/** `live`: a consumer; `down`: a queue nobody consumes; `absent`: no queue at all. */
export function serviceStatus(state: QueueState | undefined): ServiceStatus {
  if (state === undefined) return 'absent';
  return state.consumers > 0 ? 'live' : 'down';
}

function statusText(status: ServiceStatus, state: QueueState | undefined): string {
  if (status === 'absent' || state === undefined) return 'no queue: never started';
  const consumers = `${state.consumers} consumer${state.consumers === 1 ? '' : 's'}`;
  return `${consumers}, ${state.messages} queued${status === 'down' ? ' (requests wait until their deadline)' : ''}`;
}

/**
 * `warren list`: every service of the protos with its methods, and whether
 * it is live now, from a passive declare of its queue (which creates and
 * changes nothing), plus how many poison requests its servers dead-lettered
 * (`rpc.<service>.dead`). Queues are checked in parallel, one throwaway
 * channel each.
 */
export async function run({ values, out }: ListInput): Promise<number> {
  const contracts = await loadContracts(values.proto, 'list');
  const inspector = await openInspector(brokerUrl(values.url));
  let states: [QueueState | undefined, QueueState | undefined][];
  try {
    states = await Promise.all(
      contracts.services.map((service) =>
        Promise.all([
          inspector.check(serviceQueue(service.fullName)),
          inspector.check(rpcDeadLetterQueue(service.fullName)),
        ]),
      ),
    );
  } finally {
    await inspector.close();
  }
  const services = contracts.services.map((service, index) => {
    const [state, dead] = states[index]!;
    return { service, state, status: serviceStatus(state), deadLettered: dead?.messages ?? 0 };
  });
  const hasHealth = contracts.registry.services.some((service) => service.fullName === HEALTH_SERVICE);

  if (out.json) {
    out.value({
      services: services.map(({ service, state, status, deadLettered }) => ({
        name: service.fullName,
        queue: serviceQueue(service.fullName),
        status,
        consumers: state?.consumers ?? 0,
        queued: state?.messages ?? 0,
        deadLettered,
        methods: Object.values(service.methods).map((method) => ({
          name: method.name,
          path: `${service.fullName}/${method.name}`,
          idempotency: method.options.idempotencyLevel,
          http: method.httpRules.map((rule) => ({ ...rule })),
        })),
      })),
      builtIn: hasHealth ? [HEALTH_SERVICE] : [],
    });
    return ExitCode.OK;
  }

  if (services.length === 0) out.line(`No services in ${contracts.dir}.`);
  const header = formatTable(
    services.map(({ service, state, status, deadLettered }) => [
      service.fullName,
      status.toUpperCase(),
      `${statusText(status, state)}${deadLettered > 0 ? `; ${deadLettered} poison request${deadLettered === 1 ? '' : 's'} in ${rpcDeadLetterQueue(service.fullName)}` : ''}`,
    ]),
  );
  services.forEach(({ service }, index) => {
    out.line(header[index]);
    const rows = Object.values(service.methods).map((method) => [
      `    ${method.name}`,
      idempotencyLabel(method.options.idempotencyLevel),
      method.httpRules.map(routeText).join(', '),
    ]);
    for (const row of formatTable(rows)) out.line(row);
  });
  if (hasHealth)
    out.line(`(${HEALTH_SERVICE} is built in: every server answers it on its own queues; see warren health)`);
  return ExitCode.OK;
}
