/**
 * What exact proto3 JSON costs per message (the JSON path only; protobuf
 * bodies never touch it): Warren's codec (lossless parse, descriptor checks,
 * @bufbuild/protobuf, binary hop to the ts-proto form) against ts-proto's own
 * lenient fromJSON/toJSON over JSON.parse (what the runtime used before, minus
 * its round-trip check; it coerces and loses int64 digits). An Order with five
 * int64 fields, decode + encode, interleaved rounds (order alternated), one
 * warm-up round discarded, CPU time; medians and the paired ratio.
 *
 *   npx tsx bench/json-codec-bench.ts [--iterations 20000] [--rounds 11]
 */
import { decodeMessage, encodeMessage } from '../core/protocol/index.js';
import { Order } from '../gen/shop/orders/v1/orders.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number =>
  args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback;
const iterations = flag('iterations', 20_000);
const rounds = flag('rounds', 11);

const order = Order.fromPartial({
  id: 'ord_7f3a19c2b8',
  requestId: 'req-0001',
  customerId: 'cust-42',
  items: [1200, 2500, 899, 120_000].map((price, i) => ({
    sku: `SKU-${i}`,
    quantity: i + 1,
    unitPriceCents: BigInt(price),
  })),
  totalCents: 489_897n,
  currencyCode: 'EUR',
  status: 3,
  paymentId: 'pay_1234',
  createTime: new Date('2026-12-04T10:00:00Z'),
});
const body = encodeMessage(Order, order, 'application/json');

let sink = 0;
const variants: [string, () => void][] = [
  [
    'warren (exact proto3 JSON)',
    () =>
      (sink += encodeMessage(
        Order,
        decodeMessage(Order, body, 'application/json', 'bench'),
        'application/json',
      ).length),
  ],
  [
    'ts-proto fromJSON/toJSON (lenient)',
    () =>
      (sink += Buffer.from(
        JSON.stringify(Order.toJSON(Order.fromJSON(JSON.parse(Buffer.from(body).toString())))),
      ).length),
  ],
];

function time(run: () => void): number {
  const cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1e3) / iterations;
}

const samples = variants.map(() => [] as number[]);
for (let round = -1; round < rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  for (const index of order) {
    const ns = time(variants[index]![1]);
    if (round >= 0) samples[index]!.push(ns);
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `Order as JSON (${body.length} bytes), decode + encode, ${iterations} per round, ${rounds} rounds + 1 warm-up, CPU µs per message`,
);
console.log('| codec | median µs | paired ratio to ts-proto |');
console.log('| --- | ---: | ---: |');
variants.forEach(([name], i) => {
  const ratio = median(samples[i]!.map((ns, round) => ns / samples[1]![round]!));
  console.log(`| ${name} | ${(median(samples[i]!) / 1000).toFixed(2)} | ${ratio.toFixed(2)} |`);
});
if (sink === 42) console.log('');
