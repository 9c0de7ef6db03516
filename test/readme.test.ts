import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './support/broker.js';
import { runScript } from './support/child-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The TypeScript block that follows `<!-- readme-example -->` in README.md. */
function readmeExample(): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const match = /<!-- readme-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no <!-- readme-example --> ts block');
  return match[1]!;
}

describe('README example', () => {
  let vhost: TestVhost;
  const file = `${root}.tmp/readme-example-${process.pid}.ts`;

  beforeAll(async () => {
    vhost = await createTestVhost('readme');
  });

  afterAll(async () => {
    rmSync(file, { force: true });
    await vhost.remove();
  });

  it('runs against the real broker and prints what the README says', async () => {
    mkdirSync(`${root}.tmp`, { recursive: true });
    writeFileSync(file, readmeExample().replaceAll("from './", "from '../"));
    const child = runScript(file, { AMQP_URL: vhost.url, WARREN_LOG_LEVEL: 'silent' });
    expect(await child.exited).toBe(0);
    expect(child.lines).toEqual(['hello r-1', 'NOT_FOUND no such order', 'DEADLINE_EXCEEDED']);
  });
});
