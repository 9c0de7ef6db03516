/**
 * Import rules (`npm run lint`): no cycles, and core/ in layers — a file imports only from its own layer and
 * the layers before it. amqplib belongs to core/amqp/ (tests and benches use it raw, as a non-Warren peer).
 *
 *   1 protocol/                                   wire facts: codes, errors, headers, names, deadlines
 *   2 core/*.ts (contracts)                       transport, interceptors, contexts, shutdown
 *   3 observability/ security/ reflect/           cross-cutting, broker-neutral
 *   4 rpc/ events/                                broker-neutral RPC and events
 *   5 amqp/ memory/                               the transports
 *   6 mesh/ resilience/ runner/                   built on the transports
 *   7 index.ts and the entry points
 */
const layers = [
  '^core/protocol/',
  '^core/[^/]+\\.ts$',
  '^core/(observability|security|reflect)/',
  '^core/(rpc|events)/',
  '^core/(amqp|memory)/',
  '^core/(mesh|resilience|runner)/',
  '^core/(index|testing|tooling)\\.ts$',
];
const entryPoint = layers[layers.length - 1];
const upward = layers.slice(0, -1).map((from, i) => ({
  name: `layer-${i + 1}-imports-upward`,
  comment: 'core/ layers: import only from your own layer or the ones before it',
  severity: 'error',
  from: { path: from, pathNot: `${entryPoint}|\\.spec\\.ts$` },
  to: { path: layers.slice(i + 1).join('|'), pathNot: from },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles (type-only imports excepted: they vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...upward,
    {
      name: 'amqplib-outside-core-amqp',
      comment: 'one folder owns amqplib: core/amqp/ (test/ and bench/ use it raw as a non-Warren peer)',
      severity: 'error',
      from: { pathNot: '^(core/amqp/|test/|bench/)' },
      to: { path: 'node_modules/amqplib/' },
    },
    {
      name: 'core-through-entry-points',
      comment:
        'the gateway, the CLI, the shop and scripts use core as a package user would: warren, warren/protocol, warren/tooling',
      severity: 'error',
      from: { path: '^(gateway|cli|services|scripts)/' },
      to: { path: '^core/', pathNot: '^core/(index|tooling|testing|testing/conformance|protocol/index)\\.ts$' },
    },
    {
      name: 'protocol-is-wire-facts-only',
      comment: 'core/protocol/ is what PROTOCOL.md specifies: no amqplib, no node:http',
      severity: 'error',
      from: { path: '^core/protocol/' },
      to: { path: '^(http|https|http2|net)$|node_modules/amqplib/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(gen|dist)/|^services/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['warren-source', 'import', 'require', 'node', 'default', 'types'],
    },
  },
};
