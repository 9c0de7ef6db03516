import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Linux clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) a process has used so far, µs, from
 * `/proc/<pid>/stat` fields 14 and 15. Read by the orchestrator for every
 * process it measures (client, server, broker), so all three columns come
 * from the same clock at the same resolution (10 ms ticks: measure over
 * seconds, not calls). NaN when the process is gone.
 */
export function cpuMicrosOf(pid: number): number {
  try {
    // the command name (field 2) may contain spaces and parentheses: split after the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Inodes of the sockets listening on `port` (any address, IPv4 or IPv6), from /proc/net/tcp{,6}. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; column 9 is the inode
      if (columns.length > 9 && columns[1]!.endsWith(`:${hexPort}`) && columns[3] === '0A') inodes.add(columns[9]!);
    }
  }
  return inodes;
}

/**
 * The pid of the process listening on `port` (the broker, for 5672), found by
 * the socket's inode in /proc/net/tcp and the `socket:[inode]` links under
 * /proc/<pid>/fd, never by process name (there may be several brokers, e.g.
 * throw-away test nodes). Undefined when nothing listens there or the owner's
 * fds are not readable (another user without root).
 */
export function listenerPid(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** The broker's port from an AMQP URL (5672 for amqp:, 5671 for amqps: when none is given). */
export function brokerPort(url: string): number {
  const parsed = new URL(url);
  if (parsed.port !== '') return Number(parsed.port);
  return parsed.protocol === 'amqps:' ? 5671 : 5672;
}
