// Regenerates gen/ into a temporary folder and fails if it differs from the
// committed gen/: generated code must always match proto/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'warren-gen-'));
try {
  execFileSync('buf', ['generate', '--output', out], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${join(process.cwd(), 'bin')}${delimiter}${process.env.PATH ?? ''}` },
  });
  const list = (root) => {
    const files = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(relative(root, path));
      }
    };
    walk(root);
    return files.sort();
  };
  const fresh = list(join(out, 'gen'));
  const committed = list('gen');
  const problems = [];
  for (const file of new Set([...fresh, ...committed])) {
    if (!fresh.includes(file)) problems.push(`gen/${file} is not generated from proto/ (stale: delete it)`);
    else if (!committed.includes(file)) problems.push(`gen/${file} is missing (run npm run generate)`);
    else if (!readFileSync(join(out, 'gen', file)).equals(readFileSync(join('gen', file))))
      problems.push(`gen/${file} differs from what proto/ generates (run npm run generate)`);
  }
  if (problems.length > 0) {
    console.error(`gen/ is out of date:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`gen/ matches proto/ (${fresh.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
