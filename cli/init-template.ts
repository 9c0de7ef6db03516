/**
 * The files of a new service project (`warren init <dir>`): a contract with an HTTP route, its server, a typed client
 * call and a test on the memory transport, built with plain tsc. Paths are relative to the project directory.
 */

/** Versions the template pins: warren's own, and the tools warren itself is built and generated with. */
export interface TemplateVersions {
  readonly warren: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly devDependencies: Readonly<Record<string, string>>;
}

/** Every file of a new project named `name` (a lower-case word: the proto package and the service's queue). */
export function projectFiles(name: string, versions: TemplateVersions): Record<string, string> {
  const pkg = name.replace(/[^a-z0-9]/g, '') || 'greeter';
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'package.json': json({
      name,
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        generate: 'buf generate',
        build: 'tsc',
        test: 'tsc && node --test dist/test/',
        start: 'node dist/src/main.js',
        call: 'node dist/src/call.js',
      },
      dependencies: { warren: `^${versions.warren}`, ...versions.dependencies },
      devDependencies: versions.devDependencies,
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023'],
        types: ['node'],
        strict: true,
        skipLibCheck: true,
        esModuleInterop: true,
        verbatimModuleSyntax: true,
        outDir: 'dist',
        rootDir: '.',
        sourceMap: true,
      },
      include: ['src', 'gen', 'test'],
    }),
    'buf.yaml': `# Buf workspace: your contracts in proto/, google/api (HTTP routes) from the google-proto-files package.
version: v2
modules:
  - path: proto
    lint:
      use:
        - STANDARD
  - path: node_modules/google-proto-files
    includes:
      - node_modules/google-proto-files/google/api
      - node_modules/google-proto-files/google/rpc
    excludes:
      - node_modules/google-proto-files/google/api/apikeys
      - node_modules/google-proto-files/google/api/cloudquotas
      - node_modules/google-proto-files/google/api/expr
      - node_modules/google-proto-files/google/api/servicecontrol
      - node_modules/google-proto-files/google/api/servicemanagement
      - node_modules/google-proto-files/google/api/serviceusage
      - node_modules/google-proto-files/google/rpc/context
    lint:
      ignore:
        - node_modules/google-proto-files
`,
    'buf.gen.yaml': `# \`npm run generate\`: ts-proto (the local plugin from node_modules/.bin, no network) -> gen/, with the options Warren needs.
version: v2
clean: true
inputs:
  - directory: proto
plugins:
  - local: protoc-gen-ts_proto
    out: gen
    opt:
      - outputServices=generic-definitions
      - esModuleInterop=true
      - importSuffix=.js
      - useExactTypes=false
      - outputTypeAnnotations=static-only
      # 64-bit integers as bigint: the whole int64 range without loss
      - forceLong=bigint
      - useJsTypeOverride=true
  # gen/descriptor-set.ts: the descriptors Warren's proto3 JSON codec reads and writes your messages' JSON by
  # (registered in src/main.ts; the plugin ships with warren)
  - local: protoc-gen-warren-descriptors.mjs
    out: gen
    strategy: all
`,
    [`proto/${pkg}/v1/${pkg}.proto`]: `syntax = "proto3";

package ${pkg}.v1;

import "google/api/annotations.proto";

// Says hello. Reached over the broker (queue ${pkg}.v1.GreeterService) and, through \`warren gateway\`, over HTTP.
service GreeterService {
  // POST /v1/hello {"name": "Ada"} -> {"message": "Hello, Ada!"}
  rpc SayHello(SayHelloRequest) returns (SayHelloResponse) {
    option idempotency_level = NO_SIDE_EFFECTS;
    option (google.api.http) = {
      post: "/v1/hello"
      body: "*"
    };
  }
}

message SayHelloRequest {
  string name = 1;
}

message SayHelloResponse {
  string message = 1;
}
`,
    'src/greeter.ts': `import { Code, RpcError, type ServiceImplementation } from 'warren';
import type { GreeterServiceDefinition } from '../gen/${pkg}/v1/${pkg}.js';

/** The GreeterService handlers. A thrown RpcError reaches the caller with its code. */
export const greeter: ServiceImplementation<typeof GreeterServiceDefinition> = {
  sayHello(request) {
    if (request.name.trim() === '') throw new RpcError(Code.INVALID_ARGUMENT, 'name is required');
    return { message: \`Hello, \${request.name}!\` };
  },
};
`,
    'src/main.ts': `// The service process: connects to RabbitMQ (AMQP_URL), serves GreeterService with health, metrics
// (WARREN_METRICS_PORT) and tracing (OTEL_*), drains on SIGTERM, reconnects on its own.
import { registerFileDescriptorSet, runService } from 'warren';
import { fileDescriptorSet } from '../gen/descriptor-set.js';
import { GreeterServiceDefinition } from '../gen/${pkg}/v1/${pkg}.js';
import { greeter } from './greeter.js';

// proto3 JSON for this project's messages (application/json callers, the gateway's typed path)
registerFileDescriptorSet(fileDescriptorSet);

await runService({
  name: '${name}',
  setup({ server }) {
    server.add(GreeterServiceDefinition, greeter);
  },
});
`,
    'src/call.ts': `// A typed client call: npm run call -- Ada
import { connectAmqp, createClient } from 'warren';
import { GreeterServiceDefinition } from '../gen/${pkg}/v1/${pkg}.js';

const transport = await connectAmqp({ connectionName: '${name}-call' });
try {
  const client = createClient(GreeterServiceDefinition, transport, { timeoutMs: 5_000 });
  const reply = await client.sayHello({ name: process.argv[2] ?? 'world' });
  console.log(reply.message);
} finally {
  await transport.close();
}
`,
    'test/greeter.test.ts': `// The service on the memory transport: no broker needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, createClient, createServer, RpcError } from 'warren';
import { createMemoryTransport } from 'warren/testing';
import { GreeterServiceDefinition } from '../gen/${pkg}/v1/${pkg}.js';
import { greeter } from '../src/greeter.js';

test('SayHello greets by name and refuses an empty one', async () => {
  const transport = createMemoryTransport();
  const server = createServer({ transport }).add(GreeterServiceDefinition, greeter);
  await server.start();
  try {
    const client = createClient(GreeterServiceDefinition, transport);
    assert.equal((await client.sayHello({ name: 'Ada' })).message, 'Hello, Ada!');
    await assert.rejects(client.sayHello({ name: '' }), (error) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  } finally {
    await server.close();
    await transport.close();
  }
});
`,
    '.gitignore': 'node_modules/\ndist/\n',
    'README.md': `# ${name}

A Warren service: \`proto/${pkg}/v1/${pkg}.proto\` is the contract, \`src/greeter.ts\` the handlers.

\`\`\`sh
npm install                       # warren, TypeScript, buf and ts-proto
npm run generate && npm test      # typed code from the proto into gen/, build with tsc, test on the memory transport
npm start                         # serve it on RabbitMQ (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672)
\`\`\`

Then call it: \`npm run call -- Ada\` (typed client), \`npx warren call ${pkg}.v1.GreeterService/SayHello '{"name": "Ada"}'\`,
or over HTTP: \`npx warren gateway --proto-dir proto --port 8080\` and \`curl -d '{"name": "Ada"}' localhost:8080/v1/hello\`.
`,
  };
}
