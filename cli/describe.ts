import protobuf from 'protobufjs';
import type { DescribeInput } from './commands.js';
import { loadContracts } from './contracts.js';
import {
  enumJson,
  enumText,
  messageJson,
  messageText,
  methodJson,
  referencedTypes,
  routeText,
  rpcLine,
  serviceJson,
  serviceText,
} from './contract-view.js';
import { ExitCode } from './exit-codes.js';

/**
 * `warren describe <name>`: a service (methods, idempotency, HTTP routes), a
 * method (its line, then its request and response messages and every type
 * they use), a message (likewise) or an enum.
 */
export async function run({ positionals, values, out }: DescribeInput): Promise<number> {
  const contracts = await loadContracts(values.proto, 'describe');
  const found = contracts.describe(positionals[0] ?? '');
  const root = contracts.registry.root;
  const typeJson = (type: protobuf.Type | protobuf.Enum): Record<string, unknown> =>
    type instanceof protobuf.Type ? messageJson(type) : enumJson(type);
  const typeText = (type: protobuf.Type | protobuf.Enum): string[] =>
    type instanceof protobuf.Type ? messageText(type) : enumText(type);
  let json: Record<string, unknown>;
  let lines: string[];
  switch (found.kind) {
    case 'service':
      json = serviceJson(found.service, root);
      lines = serviceText(found.service, root);
      break;
    case 'method': {
      const { service, method } = found.resolved;
      const messages = [method.requestType.type, method.responseType.type];
      const used = referencedTypes(messages);
      json = {
        kind: 'method',
        ...methodJson(service, method, root),
        request: messageJson(messages[0]!),
        response: messageJson(messages[1]!),
        types: used.map(typeJson),
      };
      const comment = root.lookupService(service.fullName).methods[method.name]?.comment;
      lines = [
        ...(comment ? comment.split('\n').map((line) => `// ${line}`.trimEnd()) : []),
        `${service.fullName}/${method.name}`,
        `  ${rpcLine(method)}`,
        ...method.httpRules.map((rule) => `  HTTP ${routeText(rule)}`),
        ...[...messages, ...used].flatMap((type) => ['', ...typeText(type)]),
      ];
      break;
    }
    case 'message': {
      const used = referencedTypes([found.type]);
      json = { ...messageJson(found.type), types: used.map(typeJson) };
      lines = [found.type, ...used].flatMap((type, index) => [...(index === 0 ? [] : ['']), ...typeText(type)]);
      break;
    }
    case 'enum':
      json = enumJson(found.type);
      lines = enumText(found.type);
      break;
  }
  if (out.json) out.value(json);
  else for (const line of lines) out.line(line);
  return ExitCode.OK;
}
