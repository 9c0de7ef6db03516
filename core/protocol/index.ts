/**
 * `warren/protocol`: the wire facts PROTOCOL.md specifies — status codes, the error type, google.rpc.Status,
 * content types, metadata rules, header and queue names, deadline arithmetic — for tools and for transports other
 * than Warren's own. Imports nothing from the rest of Warren, no amqplib, no node:http.
 */
export * from './code.js';
export * from './content-type.js';
export * from './deadline.js';
export * from './definition.js';
export * from './event-names.js';
export * from './headers.js';
export * from './metadata.js';
export * from './mesh-names.js';
export * from './reply-error.js';
export * from './rpc-error.js';
export * from './rpc-names.js';
export * from './status-codec.js';
export type * from './wire-message.js';
export * from './retry-info.js';
export { parseJsonText } from './json/parse-json.js';
export { registerFileDescriptorSet } from './json/descriptor-registry.js';
export * from './wire-bounds.js';
