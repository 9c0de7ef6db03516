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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openQueueInspector } from '../core/tooling.js';
import { DEFAULT_AMQP_URL, redactUrl } from '../core/index.js';

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

const programs = [
  ...readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'main.ts')))
    .map((entry) => ({ name: entry.name, script: join(root, 'services', entry.name, 'main.ts') })),
  ...(existsSync(join(root, 'gateway', 'main.ts')) ? [{ name: 'gateway', script: join(root, 'gateway', 'main.ts') }] : []),
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
    const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return `${levels[Number(level)] ?? level} ${String(msg ?? '')}${extra}`;
  } catch {
    return line;
  }
}

programs.forEach((program, index) => {
  const child = spawn(process.execPath, ['--import', tsxLoader, '--conditions=warren-source', program.script], { cwd: root, env: { ...process.env, AMQP_URL: url, DATA_DIR: dataDir, WARREN_METRICS_PORT: String(metricsPorts.get(program.name) ?? '') }, stdio: ['ignore', 'pipe', 'pipe'] });
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
          if (waitingFor.size === 0) void announceReady();
          continue;
        }
        console.log(`${prefix(program.name, index)} ${pretty(line)}`);
      }
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(program.name);
    console.log(`${prefix(program.name, index)} exited (${signal ?? code})`);
    if (!stopping) console.log(`${prefix(program.name, index)} stopped unexpectedly; the rest of the mesh keeps running`);
    if (children.size === 0) process.exit(stopping ? 0 : 1);
  });
});

console.log(`mesh: ${programs.map((p) => p.name).join(', ')} on ${redactUrl(url)}, data in ${dataDir}`);
if (metricsPorts.size > 0) {
  console.log(`metrics: ${[...metricsPorts].map(([name, port]) => `${name} :${port}`).join(', ')}, gateway :${gatewayPort} (GET /metrics)`);
}

/** Once every service is ready: waits for the gateway's /readyz and says where it listens. */
async function announceReady(): Promise<void> {
  if (!children.has('gateway')) {
    console.log('mesh ready (no gateway)');
    return;
  }
  const base = `http://localhost:${gatewayPort}`;
  for (let attempt = 0; attempt < 120 && !stopping; attempt++) {
    const ready = await fetch(`${base}/readyz`).then((response) => response.ok, () => false);
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
