/**
 * `npm start`: the whole mesh in one command. Checks the broker, starts every
 * `services/<name>/main.ts` and `gateway/main.ts` as its own process (working
 * directory: the repository, so `DATA_DIR` defaults to ./data) with logs
 * prefixed by name, says when every service printed `ready <name>` and the
 * gateway answers /readyz, and stops them all on Ctrl-C. Each service gets
 * its own Prometheus `/metrics` port (`WARREN_METRICS_PORT`), counted up from
 * `WARREN_METRICS_BASE_PORT` (default 9464; `off` for none); the gateway's
 * metrics are on its own port. The `OTEL_*` variables pass through, so
 * `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm start` traces the mesh.
 *
 * Least privilege by default: before starting anything it provisions one
 * broker user per service and one for the gateway from
 * services/permissions.json (what `warren permissions apply` does; see
 * ./provision-users.ts) and runs each process as its own user with access
 * control enforced and replies checked against the serving user.
 * `WARREN_INSECURE_GUEST=1` asks for the old open mode by name: every
 * process as the `AMQP_URL` user, no access control.
 *
 * A child that exits unexpectedly is started again after a backoff (0.5 s
 * doubling to 10 s); one that crashes more than 5 times within a minute is
 * given up on, with a message, and the rest of the mesh keeps running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openQueueInspector } from '../core/tooling.js';
import { DEFAULT_AMQP_URL, redactUrl } from '../core/index.js';
import { provisionShopUsers, type ProvisionedUsers } from './provision-users.js';

const url = process.env['AMQP_URL'] ?? DEFAULT_AMQP_URL;
const root = new URL('..', import.meta.url).pathname;
const dataDir = process.env['DATA_DIR'] || join(root, 'data');
const gatewayPort = process.env['PORT'] ?? '8080';
const tsxLoader = new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url).href;
const colors = [36, 33, 35, 32, 34, 31, 96, 93];

try {
  const inspector = await openQueueInspector({ url, connectionName: 'warren-start' });
  await inspector.close();
} catch (error) {
  console.error(`RabbitMQ is not reachable at ${redactUrl(url)}: ${(error as Error).message}
Start one with:   rabbitmq-server -detached            (local install)
             or:   docker compose up -d rabbitmq        (Docker)
or point AMQP_URL at your broker, then run npm start again.`);
  process.exit(1);
}

const insecure = process.env['WARREN_INSECURE_GUEST'] === '1';
let provisioned: ProvisionedUsers | undefined;
if (insecure) {
  console.log(
    `WARREN_INSECURE_GUEST=1: every process connects as ${redactUrl(url)}'s user with access control off (anyone on the broker can call any method, publish any event and forge replies)`,
  );
} else {
  try {
    provisioned = await provisionShopUsers(root, url);
  } catch (error) {
    console.error(`could not provision the per-service broker users: ${(error as Error).message}
npm start runs every service as its own broker user, created with rabbitmqctl (run it where the broker runs,
as root or rabbitmq; RABBITMQCTL names another one). For the open development mode, every process as one user
with no access control, ask for it by name:   WARREN_INSECURE_GUEST=1 npm start`);
    process.exit(1);
  }
  console.log(
    `broker users: ${[...provisioned.urls.keys()].map((name) => `${provisioned!.userPrefix}${name}`).join(', ')} (fresh passwords, access control enforced)`,
  );
}

/** The environment of one child: its own broker user, or the shared one in the open mode. */
function brokerEnv(name: string): Record<string, string> {
  const own = provisioned?.urls.get(name);
  if (provisioned === undefined || own === undefined)
    return { AMQP_URL: url, ...(insecure ? { WARREN_ACCESS: 'off' } : {}) };
  const variable = `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_AMQP_URL`; // wins over AMQP_URL: set it too, so a stale one cannot
  return {
    AMQP_URL: own,
    [variable]: own,
    WARREN_ACCESS: 'enforce',
    WARREN_PERMISSIONS_FILE: provisioned.configPath,
    WARREN_USER_PREFIX: provisioned.userPrefix,
  };
}

const programs = [
  ...readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'main.ts')))
    .map((entry) => ({ name: entry.name, script: join(root, 'services', entry.name, 'main.ts') })),
  ...(existsSync(join(root, 'gateway', 'main.ts'))
    ? [{ name: 'gateway', script: join(root, 'gateway', 'main.ts') }]
    : []),
];
if (programs.length === 0) {
  console.error('nothing to start: no services/<name>/main.ts and no gateway/main.ts');
  process.exit(1);
}

const metricsBase = (process.env['WARREN_METRICS_BASE_PORT'] ?? '9464').trim();
const metricsPorts = new Map<string, number>();
if (metricsBase !== 'off' && metricsBase !== '') {
  const base = Number(metricsBase);
  if (!Number.isInteger(base) || base < 1 || base > 65_000) {
    console.error(`WARREN_METRICS_BASE_PORT must be a port number (or off), got ${JSON.stringify(metricsBase)}`);
    process.exit(1);
  }
  programs.filter((p) => p.name !== 'gateway').forEach((p, index) => metricsPorts.set(p.name, base + index));
}

const width = Math.max(...programs.map((p) => p.name.length));
const children = new Map<string, ChildProcess>();
const waitingFor = new Set(programs.filter((p) => p.name !== 'gateway').map((p) => p.name));
let stopping = false;

function prefix(name: string, index: number): string {
  return `\x1b[${colors[index % colors.length]}m${name.padEnd(width)}\x1b[0m |`;
}

function pretty(line: string): string {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const { level, time, pid, hostname, name, msg, ...rest } = entry;
    void time;
    void pid;
    void hostname;
    void name;
    const levels: Record<number, string> = {
      10: 'trace',
      20: 'debug',
      30: 'info',
      40: 'WARN',
      50: 'ERROR',
      60: 'FATAL',
    };
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return `${levels[Number(level)] ?? level} ${String(msg ?? '')}${extra}`;
  } catch {
    return line;
  }
}

/** Crash times of each program in the last minute (restart backoff and giving up). */
const crashes = new Map<string, number[]>();
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES = 5;
let announced = false;

/** Starts one program, and starts it again when it exits unexpectedly. */
function launch(program: { name: string; script: string }, index: number): void {
  const env = {
    ...process.env,
    ...brokerEnv(program.name),
    DATA_DIR: dataDir,
    WARREN_METRICS_PORT: String(metricsPorts.get(program.name) ?? ''),
  };
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=warren-source', program.script], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(program.name, child);
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let at: number;
      while ((at = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        if (line === `ready ${program.name}`) {
          waitingFor.delete(program.name);
          if (waitingFor.size === 0 && !announced) {
            announced = true;
            void announceReady();
          }
          continue;
        }
        console.log(`${prefix(program.name, index)} ${pretty(line)}`);
      }
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(program.name);
    console.log(`${prefix(program.name, index)} exited (${signal ?? code})`);
    if (stopping) {
      if (children.size === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    const recent = (crashes.get(program.name) ?? []).filter((at) => now - at < CRASH_WINDOW_MS);
    recent.push(now);
    crashes.set(program.name, recent);
    if (recent.length > MAX_CRASHES) {
      console.log(
        `${prefix(program.name, index)} crashed ${recent.length} times within a minute; giving up on it (see its log lines above). The rest of the mesh keeps running.`,
      );
      if (children.size === 0) process.exit(1);
      return;
    }
    const delay = Math.min(10_000, 500 * 2 ** (recent.length - 1));
    console.log(`${prefix(program.name, index)} stopped unexpectedly; starting it again in ${delay} ms`);
    setTimeout(() => {
      if (!stopping) launch(program, index);
    }, delay).unref();
  });
}

programs.forEach((program, index) => launch(program, index));

console.log(`mesh: ${programs.map((p) => p.name).join(', ')} on ${redactUrl(url)}, data in ${dataDir}`);
if (metricsPorts.size > 0) {
  console.log(
    `metrics: ${[...metricsPorts].map(([name, port]) => `${name} :${port}`).join(', ')}, gateway :${gatewayPort} (GET /metrics)`,
  );
}

/** Once every service is ready: waits for the gateway's /readyz and says where it listens. */
async function announceReady(): Promise<void> {
  if (!children.has('gateway')) {
    console.log('mesh ready (no gateway)');
    return;
  }
  const base = `http://localhost:${gatewayPort}`;
  for (let attempt = 0; attempt < 120 && !stopping; attempt++) {
    const ready = await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) {
      console.log(`mesh ready: gateway at ${base}  (try: curl ${base}/v1/stock)`);
      console.log(`live mesh: ${base}/mesh`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!stopping) console.log(`the gateway did not answer ${base}/readyz within 30 s; see its log lines above`);
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  console.log('stopping the mesh…');
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
