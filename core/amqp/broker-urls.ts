import { Code } from '../protocol/code.js';
import { RpcError } from '../protocol/rpc-error.js';

/**
 * The broker URLs of a connection: one node, or the nodes of a cluster.
 * `AMQP_URL` (and `connectAmqp({ url })`) takes a comma-separated list
 * (`amqp://u:p@rabbit-1,amqp://u:p@rabbit-2,amqp://u:p@rabbit-3`) or an array;
 * blanks around commas are ignored. A comma inside a password must be
 * percent-encoded (`%2C`), as URLs allow. INVALID_ARGUMENT when nothing is left.
 */
export function brokerUrls(given: string | readonly string[]): string[] {
  const urls = (typeof given === 'string' ? [given] : given)
    .flatMap((entry) => entry.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (urls.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'connectAmqp needs at least one broker URL');
  return urls;
}

/**
 * Where a process starts in its URL list: a random node, so the processes of a
 * mesh given the same list spread their connections (and the quorum queue
 * leaders they declare, placed client-local) over the cluster instead of all
 * landing on the first node. Later (re)connections go round the list from there.
 */
export function firstUrlIndex(count: number, random: () => number = Math.random): number {
  return Math.min(count - 1, Math.floor(random() * count));
}
