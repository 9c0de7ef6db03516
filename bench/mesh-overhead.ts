// Cost of mesh-report counting per call on the memory transport: plain vs instrumented, same process, interleaved.
//   npx tsx bench/mesh-overhead.ts
import { createClient, createMemoryTransport, createServer, type Transport } from '../core/index.js';
import { createMeshReporter } from '../core/tooling.js';
import { TestServiceDefinition } from '../gen/warren/test/v1/test.js';

async function setup(instrumented: boolean) {
  const inner = createMemoryTransport();
  const transport: Transport = instrumented
    ? createMeshReporter({
        transport: inner,
        app: 'bench',
        intervalMs: 60_000,
        sink: { send: async () => undefined, close: async () => undefined },
      }).transport
    : inner;
  const server = createServer({ transport }).add(TestServiceDefinition, {
    echo: (r) => ({ text: r.text }),
    sleep: () => ({}),
    fail: () => ({}),
    increment: () => ({ value: 1 }),
    relay: () => ({}),
  });
  await server.start();
  return {
    client: createClient(TestServiceDefinition, transport),
    close: async () => {
      await server.close();
      await inner.close();
    },
  };
}
const N = 20_000;
const results: Record<string, number[]> = { plain: [], instrumented: [] };
const plain = await setup(false),
  counted = await setup(true);
for (let round = 0; round < 6; round++) {
  for (const [name, s] of [
    ['plain', plain],
    ['instrumented', counted],
  ] as const) {
    const t = performance.now();
    for (let i = 0; i < N / 50; i++) await Promise.all(Array.from({ length: 50 }, () => s.client.echo({ text: 'x' })));
    results[name]!.push(((performance.now() - t) * 1000) / N);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `µs per call (median of 6 rounds × ${N} calls, 50 concurrent): plain ${median(results.plain!).toFixed(2)}, instrumented ${median(results.instrumented!).toFixed(2)}`,
);
await plain.close();
await counted.close();
