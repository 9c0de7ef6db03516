import { Code, codeName, type MethodInfo, RpcError, type Transport } from '../core/index.js';
import { createMethodCaller } from '../core/tooling.js';
import { HEALTH_CHECK_PATH } from '../core/protocol/index.js';
import {
  CheckRequest,
  CheckResponse,
  CheckResponse_ServingStatus,
  checkResponse_ServingStatusToJSON,
} from '../gen/warren/health/v1/health.js';
import { brokerUrl, cliLogger, openTransport } from './broker.js';
import type { HealthInput } from './commands.js';
import { loadContracts } from './contracts.js';
import { CliError, ExitCode, rpcExitCode } from './exit-codes.js';
import { parseDuration } from './flags.js';
import { formatTable } from './output.js';

/** Default time `warren health` waits for each answer. */
export const DEFAULT_HEALTH_TIMEOUT = '5s';

const SERVICE_NAME = /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/;

/** One service's answer, or why there was none. */
export interface HealthResult {
  readonly service: string;
  /** `SERVING`, `NOT_SERVING`, `SERVICE_UNKNOWN`, or the failed call's code name (`UNAVAILABLE`…). */
  readonly status: string;
  readonly instance?: string;
  readonly methods?: readonly string[];
  /** Why there was no answer. */
  readonly message?: string;
  readonly exitCode: number;
}

/**
 * The health check of one service: `warren.health.v1.HealthService/Check`
 * sent to the service's own queue (routing key = the service), so the
 * instance that answers is one that serves it.
 */
export async function checkHealth(
  transport: Transport,
  service: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthResult> {
  const info: MethodInfo = {
    service,
    name: 'Check',
    path: HEALTH_CHECK_PATH,
    localName: 'check',
    idempotency: 'NO_SIDE_EFFECTS',
    requestType: CheckRequest,
    responseType: CheckResponse,
  };
  try {
    const answer: CheckResponse = await createMethodCaller(info, transport)(CheckRequest.fromPartial({ service }), {
      timeoutMs,
      signal,
    });
    const status = checkResponse_ServingStatusToJSON(answer.status).replace(/^SERVING_STATUS_/, '');
    const serving = answer.status === CheckResponse_ServingStatus.SERVING_STATUS_SERVING;
    return {
      service,
      status,
      instance: answer.instance,
      methods: answer.methods,
      exitCode: serving ? ExitCode.OK : ExitCode.FAILED,
    };
  } catch (error) {
    if (signal.aborted) throw error;
    const failure = RpcError.from(error, Code.UNAVAILABLE);
    return {
      service,
      status: codeName(failure.code),
      message: failure.rawMessage,
      exitCode: rpcExitCode(failure.code),
    };
  }
}

/**
 * `warren health [service...]`: checks the named services (no proto needed)
 * or every service of the protos, in parallel. The exit code is that of the
 * first service, in output order, that is not SERVING.
 */
export async function run({ positionals, values, out, signal }: HealthInput): Promise<number> {
  const timeoutMs = parseDuration(values.timeout ?? DEFAULT_HEALTH_TIMEOUT, '--timeout');
  for (const name of positionals) {
    if (!SERVICE_NAME.test(name))
      throw new CliError(
        ExitCode.USAGE,
        Code.INVALID_ARGUMENT,
        `${JSON.stringify(name)} is not a service name (package.Service)`,
        'health',
      );
  }
  const services =
    positionals.length > 0
      ? [...positionals]
      : (await loadContracts(values.proto, 'health')).services.map((service) => service.fullName);
  if (services.length === 0) {
    out.note('No services to check: the protos define none.');
    return ExitCode.OK;
  }
  const transport = await openTransport(brokerUrl(values.url), cliLogger());
  let results: HealthResult[];
  try {
    results = await Promise.all(services.map((service) => checkHealth(transport, service, timeoutMs, signal)));
  } finally {
    await transport.close();
  }
  if (out.json) {
    out.value({ services: results.map(({ exitCode: _exitCode, ...result }) => result) });
  } else {
    const rows = results.map((result) => [
      result.service,
      result.status,
      result.message ?? `instance ${result.instance ?? '?'}, ${result.methods?.length ?? 0} methods`,
    ]);
    for (const row of formatTable(rows)) out.line(row);
  }
  return results.find((result) => result.exitCode !== ExitCode.OK)?.exitCode ?? ExitCode.OK;
}
