import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from 'amqplib';

const run = promisify(execFile);

/** The RabbitMQ scripts themselves, not the /usr/sbin wrappers (which `su` to the rabbitmq user and read /etc/rabbitmq). */
const RABBITMQ_BIN = process.env['RABBITMQ_BIN'] ?? '/usr/lib/rabbitmq/bin';

/** Ports of a throwaway node, picked free at creation and kept across restarts. */
export interface ThrowawayBrokerPorts {
  /** Plain AMQP listener, on 127.0.0.1. */
  readonly amqp: number;
  /** Erlang distribution (what rabbitmqctl talks to). */
  readonly dist: number;
  /** A free port reserved for the caller, e.g. `listeners.ssl.default` in `extraConfig`. Nothing listens on it otherwise. */
  readonly spare: number;
}

/** Options of {@link startThrowawayBroker}. */
export interface ThrowawayBrokerOptions {
  /** Part of the node name `warren-test-<label>-<hex>@localhost`. Default `node`. */
  readonly label?: string;
  /**
   * Lines appended to the node's rabbitmq.conf (new-style sysctl format), e.g. TLS listener and `ssl_options.*`.
   * A function gets the ports and the node's directory (to write certificates next to the config).
   */
  readonly extraConfig?: readonly string[] | ((ports: ThrowawayBrokerPorts, dir: string) => readonly string[]);
  /**
   * Erlang cookie. Default a random one, so the CLI we run reaches only this node; nodes meant to
   * form a cluster share one (test/support/throwaway-cluster.ts).
   */
  readonly cookie?: string;
  /** How long one start may take before it fails (with the log's tail). Default 90 s: a boot takes ~5 s idle, far more on a loaded machine. */
  readonly startTimeoutMs?: number;
}

/** How {@link ThrowawayBroker.stop} stops the node. */
export type StopMode =
  /** SIGTERM to the node's own PID: RabbitMQ closes client connections (CONNECTION_FORCED) and the VM exits. */
  | 'graceful'
  /** SIGKILL to the node's own PID: sockets are reset, as when the broker's host dies. */
  | 'kill'
  /** `rabbitmqctl stop_app`: the Erlang VM stays up, the broker application (and every listener) stops. */
  | 'app';

/**
 * A RabbitMQ node of a test's own, for faults that must never touch the
 * shared broker (restart, memory alarm, TLS listeners). It runs as this
 * process's user with its own node name, ports, data, logs, config, Erlang
 * cookie and an empty plugin list, all in one temporary directory.
 */
export interface ThrowawayBroker {
  /** `warren-test-<label>-<hex>@localhost`. */
  readonly nodeName: string;
  /** `amqp://guest:guest@127.0.0.1:<amqp port>` (guest may log in over loopback). */
  readonly url: string;
  readonly ports: ThrowawayBrokerPorts;
  /** The node's temporary directory (data under `mnesia/`, logs under `log/`). */
  readonly dir: string;
  /** OS PID of the running VM, undefined while stopped. */
  readonly pid: number | undefined;
  /** Every PID this broker ever started (VMs, their helpers, the watchdog), for leak checks. */
  readonly pids: readonly number[];
  /** Milliseconds each start took until AMQP was accepted, in order. */
  readonly startTimes: readonly number[];
  /** Stops the broker (default `graceful`); resolves once it no longer accepts connections. */
  stop(mode?: StopMode): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it accepts AMQP. */
  start(): Promise<void>;
  /** `stop(mode)` then `start()`. */
  restart(mode?: StopMode): Promise<void>;
  /** Runs `rabbitmqctl -n <this node> ...args`; resolves stdout, rejects with stderr. */
  rabbitmqctl(...args: string[]): Promise<string>;
  /** Kills this broker's own processes by PID and deletes its directory. Safe to call twice. */
  remove(): Promise<void>;
  /** PIDs of processes of this broker still running (VM, helpers, CLI, watchdog): empty after `remove()`. */
  processes(): number[];
}

/** Environment variable every process of a throwaway broker carries (its node name), so they can be found by PID. */
export const THROWAWAY_MARKER = 'WARREN_THROWAWAY_BROKER';

/**
 * Creates and boots a throwaway node; resolves once it accepts AMQP.
 *
 * ```ts
 * const broker = await startThrowawayBroker({ label: 'restart' });
 * const transport = await connectAmqp({ url: broker.url });
 * await broker.restart('kill');
 * await broker.remove();
 * ```
 */
export async function startThrowawayBroker(options: ThrowawayBrokerOptions = {}): Promise<ThrowawayBroker> {
  // a port picked free can be taken before the node binds it: pick again, a few times
  for (let attempt = 1; ; attempt++) {
    const broker = await createBroker(options);
    try {
      await broker.start();
      return broker;
    } catch (error) {
      await broker.remove();
      if (attempt >= 3 || !/eaddrinuse/i.test((error as Error).message)) throw error;
    }
  }
}

async function createBroker(options: ThrowawayBrokerOptions): Promise<ThrowawayBroker> {
  const label = options.label ?? 'node';
  const nodeName = `warren-test-${label}-${randomBytes(3).toString('hex')}@localhost`;
  const dir = mkdtempSync(join(tmpdir(), 'warren-broker-'));
  const [amqp, dist, spare] = await freePorts(3);
  const ports: ThrowawayBrokerPorts = { amqp: amqp!, dist: dist!, spare: spare! };
  const extra =
    typeof options.extraConfig === 'function' ? options.extraConfig(ports, dir) : (options.extraConfig ?? []);
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [`listeners.tcp.local = 127.0.0.1:${ports.amqp}`, 'loopback_users.guest = true', ...extra, ''].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  // our own env file, so /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost) is never read
  writeFileSync(join(dir, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
  // a private cookie: the CLI we run reaches only this node (or its cluster), never the shared one
  writeFileSync(join(dir, '.erlang.cookie'), options.cookie ?? randomBytes(16).toString('hex').toUpperCase(), {
    mode: 0o400,
  });
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(RABBITMQ_|ERL_|NOTIFY_SOCKET$|RUNNING_UNDER_SYSTEMD$)/.test(key)) env[key] = value;
  }
  Object.assign(env, {
    HOME: dir,
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONFIG_FILES: join(dir, 'conf.d'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    // makes the start script exec the VM instead of waiting on it, so the PID we hold is the node's own
    RUNNING_UNDER_SYSTEMD: 'true',
    [THROWAWAY_MARKER]: nodeName,
  });
  const url = `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const pids: number[] = [];
  const startTimes: number[] = [];
  const nodePidFile = join(dir, 'node.pid');
  let vm: { child: ChildProcess; exited: Promise<void> } | undefined;
  let appStopped = false;
  let removed = false;

  const watchdog = startWatchdog(dir, nodeName, nodePidFile);
  pids.push(watchdog.pid!);

  const rabbitmqctl = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', nodeName, ...args], {
        env,
        cwd: dir,
        timeout: 60_000,
      });
      return stdout;
    } catch (error) {
      const failed = error as Error & { stderr?: string; stdout?: string };
      throw new Error(
        `rabbitmqctl ${args.join(' ')} on ${nodeName} failed: ${failed.stderr || failed.stdout || failed.message}`,
        { cause: error },
      );
    }
  };

  const logTail = (): string => {
    const files = [join(dir, 'stdout.log'), join(dir, 'log', `${nodeName}.log`)];
    return files
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, 'utf8').split('\n').slice(-25).join('\n'))
      .join('\n---\n');
  };

  const spawnVm = (): void => {
    const out = openSync(join(dir, 'stdout.log'), 'a');
    const child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      env,
      cwd: dir,
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    if (child.pid === undefined) throw new Error('could not spawn rabbitmq-server');
    pids.push(child.pid);
    writeFileSync(nodePidFile, String(child.pid));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => {
      if (vm?.child === child) vm = undefined;
      if (existsSync(nodePidFile) && readFileSync(nodePidFile, 'utf8') === String(child.pid)) unlinkSync(nodePidFile);
    });
    child.unref();
    vm = { child, exited };
  };

  const waitForAmqp = async (startedAt: number): Promise<void> => {
    for (;;) {
      if (!vm) throw new Error(`throwaway broker ${nodeName} exited while starting:\n${logTail()}`);
      try {
        const connection = await connect(url);
        await connection.close();
        return;
      } catch {
        if (Date.now() - startedAt > startTimeoutMs)
          throw new Error(
            `throwaway broker ${nodeName} did not accept AMQP within ${startTimeoutMs} ms:\n${logTail()}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const killTree = async (signal: NodeJS.Signals): Promise<void> => {
    const current = vm;
    if (!current) return;
    const helpers = descendantsOf(current.child.pid!);
    pids.push(...helpers);
    current.child.ref(); // keep the process alive until its exit is seen
    signalPid(current.child.pid!, signal);
    await current.exited;
    // erl_child_setup and friends leave with the VM; make sure of it (only PIDs still carrying our marker)
    for (const pid of processesMarked(nodeName)) if (helpers.includes(pid)) signalPid(pid, 'SIGKILL');
  };

  const broker: ThrowawayBroker = {
    nodeName,
    url,
    ports,
    dir,
    get pid() {
      return vm?.child.pid;
    },
    pids,
    startTimes,
    async start() {
      if (removed) throw new Error(`throwaway broker ${nodeName} was removed`);
      const startedAt = Date.now();
      if (vm && appStopped) {
        await rabbitmqctl('start_app');
      } else if (!vm) {
        spawnVm();
      }
      appStopped = false;
      await waitForAmqp(startedAt);
      startTimes.push(Date.now() - startedAt);
    },
    async stop(mode = 'graceful') {
      if (!vm) return;
      if (mode === 'app') {
        if (!appStopped) await rabbitmqctl('stop_app');
        appStopped = true;
        return;
      }
      await killTree(mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
      appStopped = false;
    },
    async restart(mode = 'graceful') {
      await broker.stop(mode);
      await broker.start();
    },
    rabbitmqctl,
    async remove() {
      if (removed) return;
      removed = true;
      await killTree('SIGKILL');
      watchdog.ref();
      signalPid(watchdog.pid!, 'SIGKILL');
      await watchdog.exited;
      // anything else of ours (a helper the VM started, a CLI call still running) goes too, by its PID
      for (let round = 0; round < 50; round++) {
        const left = processesMarked(nodeName);
        if (left.length === 0) break;
        if (round > 10) for (const pid of left) signalPid(pid, 'SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      rmSync(dir, { recursive: true, force: true });
    },
    processes: () => processesMarked(nodeName),
  };
  return broker;
}

/**
 * A detached shell that outlives a crashed test process: once this process
 * is gone it kills the node (by the PID we recorded, after checking the PID
 * still belongs to that node) and deletes the directory, so nothing is left behind.
 */
function startWatchdog(dir: string, nodeName: string, nodePidFile: string): ChildProcess & { exited: Promise<void> } {
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `pid=$(cat "${nodePidFile}" 2>/dev/null)`,
    `if [ -n "$pid" ] && tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null | grep -qx "RABBITMQ_NODENAME=${nodeName}"; then kill -9 "$pid"; fi`,
    'sleep 1',
    `rm -rf "${dir}"`,
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script], {
    stdio: 'ignore',
    detached: true,
    env: { ...process.env, [THROWAWAY_MARKER]: nodeName },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.unref();
  return Object.assign(child, { exited });
}

/** Running (not zombie) processes whose environment carries `THROWAWAY_MARKER=<nodeName>`. */
function processesMarked(nodeName: string): number[] {
  const needle = `\0${THROWAWAY_MARKER}=${nodeName}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(needle)) found.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

/** Sends a signal to one PID of ours, ignoring a process that is already gone. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** PIDs whose parent chain leads to `root` (from /proc). */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces, so read after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** `count` distinct ports free on 127.0.0.1 right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}
