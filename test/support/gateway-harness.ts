import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  type AmqpTransport,
  connectAmqp,
  createServer,
  type Logger,
  type Server,
  type WireRequest,
} from '../../core/index.js';
import { loadProtos } from '../../core/tooling.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../gateway/create-gateway.js';
import { RestTestServiceDefinition } from '../../gen/warren/test/v1/rest_test.js';
import { TestServiceDefinition } from '../../gen/warren/test/v1/test.js';
import { createTestVhost, type TestVhost } from './broker.js';
import { restTestService } from './gateway-rest-service.js';
import { testService } from '../../core/testing/test-service.js';

const run = promisify(execFile);

/** A log line a {@link createRecordingLogger} kept. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every line, so tests can check what was logged. */
export function createRecordingLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { entries: LogEntry[] } {
  const at = (level: LogEntry['level']) => (obj: object, msg?: string) =>
    void entries.push({ level, msg: msg ?? '', fields: { ...bindings, ...obj } });
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => createRecordingLogger(entries, { ...bindings, ...more }),
  };
}

/** The gateway's transport, recording every request it publishes. */
export function countingTransport(inner: AmqpTransport): { transport: AmqpTransport; published: WireRequest[] } {
  const published: WireRequest[] = [];
  const transport = new Proxy(inner, {
    get(target, key) {
      if (key === 'request') {
        return (request: WireRequest, signal: AbortSignal) => {
          published.push(request);
          return target.request(request, signal);
        };
      }
      return Reflect.get(target, key, target) as unknown;
    },
  });
  return { transport, published };
}

/** A gateway on its own vhost and broker connection, optionally with in-process services behind it. */
export interface GatewayHarness {
  readonly vhost: TestVhost;
  readonly gateway: Gateway;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Requests the gateway published, in order. */
  readonly published: WireRequest[];
  readonly logs: LogEntry[];
  /** The gateway's own broker connection (its name is in `connectionName`). */
  readonly gatewayTransport: AmqpTransport;
  readonly connectionName: string;
  /** Closes the gateway's broker connection from the broker side, as a broker restart would. */
  killGatewayConnection(): Promise<void>;
  /** Takes the broker user's permissions on the vhost away (reconnections fail) or gives them back. */
  setVhostAccess(allowed: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a gateway in this process on a fresh vhost. With `services: true`
 * (default) TestService and RestTestService run in-process behind it on a
 * connection of their own.
 */
export async function startGatewayHarness(
  label: string,
  options: { services?: boolean; gateway?: Partial<Omit<GatewayOptions, 'transport' | 'protos'>> } = {},
): Promise<GatewayHarness> {
  const vhost = await createTestVhost(label);
  let server: Server | undefined;
  let serverTransport: AmqpTransport | undefined;
  if (options.services !== false) {
    serverTransport = await connectAmqp({ url: vhost.url, connectionName: `${label}-services` });
    server = createServer({ transport: serverTransport, instance: `${label}-services` })
      .add(TestServiceDefinition, testService(`${label}-services`).implementation)
      .add(RestTestServiceDefinition, restTestService());
    await server.start();
  }
  const connectionName = `${label}-gateway-${process.pid}`;
  const gatewayTransport = await connectAmqp({ url: vhost.url, connectionName });
  const { transport, published } = countingTransport(gatewayTransport);
  const logger = createRecordingLogger();
  // every test method is reachable unless a suite narrows it (the gateway's own default is `@http` only)
  const gateway = createGateway({
    transport,
    protos: await loadProtos({ root: 'proto' }),
    logger,
    expose: ['*'],
    ...options.gateway,
  });
  const { port } = await gateway.listen(0, '127.0.0.1');
  return {
    vhost,
    gateway,
    base: `http://127.0.0.1:${port}`,
    published,
    logs: logger.entries,
    gatewayTransport,
    connectionName,
    async killGatewayConnection() {
      const { stdout } = await run('rabbitmqctl', [
        'list_connections',
        '-p',
        vhost.name,
        '--quiet',
        '--no-table-headers',
        'pid',
        'client_properties',
      ]);
      const line = stdout.split('\n').find((l) => l.includes(connectionName));
      if (!line) throw new Error(`no broker connection named ${connectionName} in ${vhost.name}`);
      await run('rabbitmqctl', ['close_connection', line.trim().split(/\s+/)[0]!, 'test: simulated broker loss']);
    },
    async setVhostAccess(allowed) {
      const user = decodeURIComponent(new URL(vhost.url).username || 'guest');
      if (allowed) await run('rabbitmqctl', ['set_permissions', '-p', vhost.name, user, '.*', '.*', '.*']);
      else await run('rabbitmqctl', ['clear_permissions', '-p', vhost.name, user]);
    },
    async close() {
      await gateway.close();
      await gatewayTransport.close().catch(() => undefined);
      await server?.close();
      await serverTransport?.close();
      await vhost.remove();
    },
  };
}

/** Sends one HTTP request and reads the answer as text (and JSON when it parses). */
export async function call(
  base: string,
  method: string,
  path: string,
  init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any; ms: number }> {
  const started = performance.now();
  const headers = {
    ...(init.body !== undefined && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
    ...init.headers,
  };
  const response = await fetch(base + path, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json, ms: performance.now() - started };
}
