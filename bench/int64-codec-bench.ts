/**
 * Does the int64 representation of the generated types slow the protobuf
 * (binary) path? Generates shop.orders.v1 with ts-proto three ways
 * (forceLong=number, the old default; bigint, what gen/ uses; string) into
 * .tmp/int64-bench/, then times encode+decode of an Order with five int64
 * fields (total and four unit prices), in interleaved rounds (variant order
 * rotated every round), CPU time per message, after a warm-up of one
 * discarded round. Prints the median per variant and the median of the
 * per-round ratios to `number` (paired: same round, same machine load).
 *
 *   npx tsx bench/int64-codec-bench.ts [--iterations 50000] [--rounds 15]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number =>
  args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback;
const iterations = flag('iterations', 50_000);
const rounds = flag('rounds', 15);
const variants = ['number', 'bigint', 'string'] as const;
type Variant = (typeof variants)[number];

interface OrderCodec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromPartial(object: unknown): unknown;
}

const root = resolve('.tmp/int64-bench');
rmSync(root, { recursive: true, force: true });
const codecs = new Map<Variant, OrderCodec>();
for (const variant of variants) {
  const out = join(root, variant);
  mkdirSync(out, { recursive: true });
  const template = join(root, `${variant}.yaml`);
  writeFileSync(
    template,
    JSON.stringify({
      version: 'v2',
      inputs: [{ directory: 'proto', paths: ['proto/shop/orders/v1/orders.proto'] }],
      plugins: [
        {
          local: 'protoc-gen-ts_proto',
          out,
          opt: [
            'outputServices=generic-definitions',
            'esModuleInterop=true',
            'importSuffix=.js',
            'useExactTypes=false',
            'outputTypeAnnotations=static-only',
            `forceLong=${variant}`,
          ],
        },
      ],
    }),
  );
  execFileSync('npx', ['buf', 'generate', '--template', template], { stdio: 'inherit' });
  const module = (await import(pathToFileURL(join(out, 'shop/orders/v1/orders.ts')).href)) as { Order: OrderCodec };
  codecs.set(variant, module.Order);
}

const cents = (n: number, variant: Variant): number | bigint | string =>
  variant === 'number' ? n : variant === 'bigint' ? BigInt(n) : String(n);
const orders = new Map(
  variants.map((variant) => [
    variant,
    codecs.get(variant)!.fromPartial({
      id: 'ord_7f3a19c2b8',
      requestId: 'req-0001',
      customerId: 'cust-42',
      items: [1200, 2500, 899, 120_000].map((price, i) => ({
        sku: `SKU-${i}`,
        quantity: i + 1,
        unitPriceCents: cents(price, variant),
      })),
      totalCents: cents(1200 + 2 * 2500 + 3 * 899 + 4 * 120_000, variant),
      currencyCode: 'EUR',
      status: 3,
      paymentId: 'pay_1234',
    }),
  ]),
);

let sink = 0;
function time(variant: Variant): number {
  const codec = codecs.get(variant)!;
  const order = orders.get(variant)!;
  const cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const bytes = codec.encode(order).finish();
    sink += (codec.decode(bytes) as { items: unknown[] }).items.length;
  }
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1e3) / iterations; // CPU ns per encode+decode
}

const samples = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
for (let round = -1; round < rounds; round++) {
  const order = variants.map((_, i) => variants[(i + round + 1) % variants.length]!);
  for (const variant of order) {
    const ns = time(variant);
    if (round >= 0) samples.get(variant)!.push(ns); // round -1: warm-up, discarded
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const base = samples.get('number')!;
console.log(
  `Order (5 int64 fields) encode+decode, ${iterations} per round, ${rounds} rounds + 1 warm-up, CPU ns per message`,
);
console.log('| forceLong | median ns | paired ratio to number (median) |');
console.log('| --- | ---: | ---: |');
for (const variant of variants) {
  const values = samples.get(variant)!;
  const ratio = median(values.map((ns, i) => ns / base[i]!));
  console.log(
    `| ${variant}${variant === 'bigint' ? ' (gen/)' : ''} | ${median(values).toFixed(0)} | ${ratio.toFixed(3)} |`,
  );
}
if (sink === 42) console.log('');
rmSync(root, { recursive: true, force: true });
