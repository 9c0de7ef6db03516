/**
 * `warren/gateway`: the HTTP front door (grpc-gateway style routes from `google.api.http`, OpenAPI, circuit
 * breakers, auth, rate limits) to embed in your own process. To run it as is: `warren gateway --proto-dir <dir>`.
 */
export {
  createGateway,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_GATEWAY_TIMEOUT_MS,
  DEFAULT_MAX_TIMEOUT_MS,
  type Gateway,
  type GatewayOptions,
} from './create-gateway.js';
export { gatewayOptionsFromEnv, parseApiKeys, type EnvGatewayOptions } from './env-config.js';
