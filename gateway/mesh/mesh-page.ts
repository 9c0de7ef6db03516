import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, type Logger, type Transport } from '../../core/index.js';
import { type ChannelOpener, createMeshReporter, type MeshBreakerState } from '../../core/tooling.js';
import { HEALTH_CHECK_PATH } from '../../core/protocol/index.js';
import { gatewayError } from '../http-status.js';
import { JSON_UTF8, send, sendError } from '../respond.js';
import { SECURITY_HEADERS } from '../security-headers.js';
import { startMeshFeed } from '../../core/tooling.js';
import { createMeshModel, DEFAULT_MESH_WINDOW_MS } from './mesh-model.js';
import type { MeshView } from './mesh-view.js';

/** The paths the mesh page answers. */
export const MESH_PATHS: ReadonlySet<string> = new Set(['/mesh', '/mesh.json', '/mesh/stream']);
/** Default refresh period of the page (and of queue checks while someone watches). */
export const DEFAULT_MESH_REFRESH_MS = 1_000;
/** Default cap on open `/mesh/stream` connections. */
export const DEFAULT_MESH_MAX_VIEWERS = 32;
/** Queues keep being checked this long after the last `/mesh.json` request. */
const WATCHED_FOR_MS = 15_000;

/** Tuning of the mesh page (`GatewayOptions.mesh`). */
export interface MeshPageOptions {
  /** Name the gateway reports its own calls and breakers under. Default `gateway`. */
  readonly app?: string;
  /** Time between the gateway's own reports. Default 2 000 ms. */
  readonly reportIntervalMs?: number;
  /** Window of rates, error shares and p99. Default {@link DEFAULT_MESH_WINDOW_MS}. */
  readonly windowMs?: number;
  /** Page refresh and queue check period while someone watches. Default {@link DEFAULT_MESH_REFRESH_MS}. */
  readonly refreshMs?: number;
  /** Most `/mesh/stream` connections at once; beyond it 503. Default {@link DEFAULT_MESH_MAX_VIEWERS}. */
  readonly maxViewers?: number;
}

/** What the gateway hands the page. */
export interface MeshPageSetup extends MeshPageOptions {
  /** The gateway's transport; it must be AMQP (`openChannel`). */
  readonly transport: Transport;
  /** Services of the contracts (the built-in health service is left out). */
  readonly services: readonly string[];
  /** The gateway's breakers now. */
  readonly breakers: () => Iterable<readonly [string, MeshBreakerState]>;
  readonly logger: Logger;
}

/** The mesh page of a gateway. */
export interface MeshPage {
  /** The gateway's transport, counted: its calls go through this one. */
  readonly transport: Transport;
  /** True for {@link MESH_PATHS}. */
  handles(path: string): boolean;
  /** Answers one request for a mesh path (`closing`: the gateway is draining). */
  serve(request: IncomingMessage, response: ServerResponse, path: string, closing: boolean): void;
  /** The model's picture now. */
  view(): MeshView;
  /** Ends the streams, stops the feed, sends the gateway's last report. */
  close(): Promise<void>;
}

interface Page {
  readonly html: string;
  readonly policy: string;
}

let page: Page | undefined;

/**
 * The page with the Content-Security-Policy that lets exactly its own inline
 * script and style run (by hash), fetch only from this origin, and nothing else.
 */
function loadPage(): Page {
  if (!page) {
    const html = readFileSync(new URL('./mesh-page.html', import.meta.url), 'utf8');
    const hash = (tag: string): string => {
      const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
      if (!match) throw new Error(`mesh-page.html has no <${tag}>`);
      return `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`;
    };
    const policy = `default-src 'none'; script-src ${hash('script')}; style-src ${hash('style')}; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
    page = { html, policy };
  }
  return page;
}

/**
 * Creates the live mesh page: `GET /mesh` (one self-contained HTML page:
 * inline script and style, no external assets), `GET /mesh.json` (the
 * {@link MeshView}), `GET /mesh/stream` (Server-Sent Events: the view every
 * `refreshMs`). Reports come from the `warren.mesh` exchange; queue depths
 * and consumer counts are read with passive declares only while someone
 * watches (an open stream, or a `/mesh.json` in the last 15 s). The gateway
 * reports itself too (app `gateway`): its calls and its breakers. Returns
 * `undefined` when the transport cannot open channels (not AMQP).
 */
export function createMeshPage(setup: MeshPageSetup): MeshPage | undefined {
  if (typeof (setup.transport as Partial<ChannelOpener>).openChannel !== 'function') return undefined;
  const logger = setup.logger.child({ component: 'mesh' });
  const refreshMs = setup.refreshMs ?? DEFAULT_MESH_REFRESH_MS;
  const maxViewers = setup.maxViewers ?? DEFAULT_MESH_MAX_VIEWERS;
  const { html, policy } = loadPage();
  const reporter = createMeshReporter({
    transport: setup.transport,
    app: setup.app ?? 'gateway',
    logger,
    breakers: setup.breakers,
    ...(setup.reportIntervalMs === undefined ? {} : { intervalMs: setup.reportIntervalMs }),
  });
  const services = setup.services.filter((service) => !HEALTH_CHECK_PATH.startsWith(`${service}/`));
  const model = createMeshModel({ services, windowMs: setup.windowMs ?? DEFAULT_MESH_WINDOW_MS });
  const feed = startMeshFeed(setup.transport as unknown as ChannelOpener, model, logger);
  const streams = new Map<ServerResponse, { backedUp: boolean }>();
  let askedAt = 0;
  let closed = false;

  const write = (response: ServerResponse, data: string): void => {
    const stream = streams.get(response);
    if (!stream || stream.backedUp) return;
    stream.backedUp = !response.write(data);
  };
  const event = (): string => `data: ${JSON.stringify(model.view())}\n\n`;

  const tick = async (): Promise<void> => {
    if (streams.size === 0 && Date.now() - askedAt > WATCHED_FOR_MS) return;
    await feed.checkQueues();
    if (streams.size === 0) return;
    const data = event();
    for (const response of streams.keys()) write(response, data);
  };
  const timer = setInterval(() => void tick(), refreshMs);
  timer.unref();

  const stream = (request: IncomingMessage, response: ServerResponse): void => {
    if (streams.size >= maxViewers) {
      sendError(
        response,
        gatewayError(Code.UNAVAILABLE, `too many mesh viewers (at most ${maxViewers}); use /mesh.json`, 503),
        undefined,
        false,
        undefined,
      );
      return;
    }
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    });
    streams.set(response, { backedUp: false });
    response.on('drain', () => {
      const entry = streams.get(response);
      if (entry) entry.backedUp = false;
    });
    request.socket.setNoDelay(true);
    response.once('close', () => streams.delete(response));
    write(response, `retry: ${Math.max(1000, refreshMs * 2)}\n\n`);
    void feed.checkQueues().then(() => write(response, event()));
  };

  return {
    transport: reporter.transport,
    handles: (path) => MESH_PATHS.has(path),
    serve(request, response, path, closing) {
      const method = request.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        sendError(
          response,
          gatewayError(Code.UNIMPLEMENTED, `${path} answers GET only`, 405, { allow: 'GET, HEAD' }),
          undefined,
          closing,
          undefined,
        );
      } else if (closed || closing) {
        sendError(
          response,
          gatewayError(Code.UNAVAILABLE, 'the gateway is shutting down', 503),
          undefined,
          true,
          undefined,
        );
      } else if (path === '/mesh') {
        send(response, 200, 'text/html; charset=utf-8', html, undefined, false, { 'content-security-policy': policy });
      } else if (path === '/mesh.json') {
        const stale = Date.now() - askedAt > refreshMs;
        askedAt = Date.now();
        (stale ? feed.checkQueues() : Promise.resolve()).then(
          () => send(response, 200, JSON_UTF8, JSON.stringify(model.view()), undefined, false),
          (error: unknown) => {
            logger.error({ err: error }, 'mesh view failed');
            sendError(response, gatewayError(Code.INTERNAL, 'mesh view failed', 500), undefined, false, undefined);
          },
        );
      } else if (method === 'GET') {
        stream(request, response);
      } else {
        send(response, 200, 'text/event-stream; charset=utf-8', '', undefined, false);
      }
    },
    view: () => model.view(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const response of streams.keys()) response.end();
      streams.clear();
      await feed.close();
      await reporter.close();
    },
  };
}
