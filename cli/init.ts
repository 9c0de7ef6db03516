/**
 * `warren init <dir>`: writes a new service project (see ./init-template.ts) into an empty or new directory. The
 * versions it pins come from this package's package.json: warren's own version, and the versions of the tools
 * (TypeScript, buf, ts-proto) warren itself is built with, so a new project generates and compiles as warren does.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Code } from '../core/index.js';
import type { InitInput } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';
import { projectFiles, type TemplateVersions } from './init-template.js';

interface PackageJson {
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** This package's package.json: one level up from cli/ in the repository, two from dist/cli/ in the package. */
function ownPackage(): PackageJson {
  const at = existsSync(new URL('../package.json', import.meta.url)) ? '../package.json' : '../../package.json';
  return JSON.parse(readFileSync(new URL(at, import.meta.url), 'utf8')) as PackageJson;
}

function versions(): TemplateVersions {
  const pkg = ownPackage();
  const pick = (
    from: Record<string, string> | undefined,
    names: readonly string[],
    fallback: string,
  ): Record<string, string> =>
    Object.fromEntries(names.map((name) => [name, from?.[name] ?? pkg.dependencies[name] ?? fallback]));
  return {
    warren: pkg.version,
    dependencies: pick(pkg.dependencies, ['@bufbuild/protobuf'], 'latest'),
    devDependencies: pick(
      pkg.devDependencies,
      ['@bufbuild/buf', '@types/node', 'google-proto-files', 'ts-proto', 'typescript'],
      'latest',
    ),
  };
}

/** Writes the project; refuses a directory that has files in it. */
export async function run({ positionals, out }: InitInput): Promise<number> {
  const dir = resolve(positionals[0]!);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CliError(
      ExitCode.USAGE,
      Code.ALREADY_EXISTS,
      `${dir} is not empty: give a new or empty directory`,
      'init',
    );
  }
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '') || 'greeter';
  for (const [path, text] of Object.entries(projectFiles(name, versions()))) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  out.line(`created ${name} in ${dir}`);
  out.note(`next: cd ${positionals[0]} && npm install && npm run generate && npm test`);
  return ExitCode.OK;
}
