// The `warren` CLI compiled ahead of time, so a start does not pay for
// transpiling TypeScript (tsx) on every run.
//
// cli/main.ts and every module of this repository it imports (core/, gen/,
// the lazily loaded commands) are bundled by esbuild, the compiler tsx itself
// uses, into node_modules/.cache/warren-cli/<fingerprint>/main.mjs, with code
// splitting so each command still loads only what it needs. Packages stay in
// node_modules and are imported from there as usual.
//
// A bundle is used only while its fingerprint matches: a SHA-256 of the exact
// bytes esbuild compiled for every input file, the names in those files'
// directories (a new file could change what an import resolves to),
// tsconfig.json, package.json, this file and the checkout's path. Every start recomputes it from
// the files on disk (a few milliseconds), so an edited source is rebuilt
// before it runs, never served stale. Builds go to a private temporary
// directory renamed into place, and the manifest is replaced atomically, so
// CLIs started in parallel never see half a build; at worst each builds once.
//
// `import.meta.url` (and `.dirname`, `.filename`) is replaced in each source
// with that source's own location before bundling, so code that finds files
// next to itself (package.json, node_modules/.bin) behaves as under tsx.
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where bundles are kept: `WARREN_CLI_CACHE`, else node_modules/.cache/warren-cli
 * (ignored by git, gone with node_modules on `npm ci`).
 */
export const CACHE_DIR = process.env['WARREN_CLI_CACHE'] || join(ROOT, 'node_modules', '.cache', 'warren-cli');
/**
 * The manifest names the current bundle of this checkout. Keyed by the
 * checkout's path: checkouts sharing a node_modules (a symlink) keep their own,
 * since a bundle refers to its checkout's files by absolute path.
 */
const MANIFEST = join(CACHE_DIR, `manifest-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.json`);
const ENTRY = 'cli/main.ts';
/** Files that change how the sources compile, besides the sources themselves. */
const CONFIG_FILES = ['tsconfig.json', 'package.json', 'cli/compiled-cli.mjs'];
/**
 * Bundles other than the current one are deleted once unused this long: a CLI
 * started from one has long imported all of it by then (commands load their
 * modules when they start), and a busy edit session leaves only a few behind.
 */
const STALE_BUNDLE_MS = 10 * 60 * 1000;
const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/**
 * The URL of an up-to-date compiled CLI: the cached bundle when its
 * fingerprint matches the files on disk, else a fresh build. `undefined` when
 * it cannot be had (esbuild missing, read-only node_modules, a build error):
 * the caller then runs the sources through tsx.
 */
export async function compiledEntry() {
  try {
    const cached = cachedEntry();
    if (cached !== undefined) return cached;
    return await build();
  } catch (error) {
    if (process.env['WARREN_DEBUG']) process.stderr.write(`warren: no compiled CLI, running the sources with tsx: ${error?.stack ?? error}\n`);
    return undefined;
  }
}

/** The cached bundle's URL if its fingerprint matches the files on disk now. */
function cachedEntry() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(manifest.inputs) || typeof manifest.fingerprint !== 'string') return undefined;
  const sources = new Map();
  for (const input of manifest.inputs) {
    try {
      sources.set(input, readFileSync(join(ROOT, input)));
    } catch {
      return undefined; // a source went away: rebuild
    }
  }
  try {
    if (fingerprint(sources) !== manifest.fingerprint) return undefined;
  } catch {
    return undefined; // a directory or config file went away: rebuild
  }
  const bundle = join(CACHE_DIR, manifest.fingerprint);
  const entry = join(bundle, 'main.mjs');
  if (!existsSync(entry)) return undefined;
  try {
    const now = new Date();
    utimesSync(bundle, now, now); // in use: another checkout sharing the cache does not clean it up
  } catch {
    // read-only cache: fine
  }
  return pathToFileURL(entry).href;
}

/**
 * SHA-256 over the compiled sources (path and text), the listings of their
 * directories and the config files, in a fixed order.
 */
function fingerprint(sources) {
  const hash = createHash('sha256');
  const add = (label, data) => hash.update(`${label}\0${Buffer.byteLength(data)}\0`).update(data);
  add('root', ROOT); // the bundle holds this checkout's paths (import.meta.url)
  const inputs = [...sources.keys()].sort();
  for (const input of inputs) add(`source ${input}`, sources.get(input));
  for (const dir of [...new Set(inputs.map((input) => dirname(input)))].sort()) add(`dir ${dir}`, readdirSync(join(ROOT, dir)).sort().join('\n'));
  for (const file of CONFIG_FILES) add(`config ${file}`, readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 32);
}

/** Bundles the CLI, stores it under its fingerprint, points the manifest at it. */
async function build() {
  const esbuild = await loadEsbuild();
  /** What esbuild compiled, by path relative to the root: the bytes read (before the import.meta rewrite). */
  const sources = new Map();
  const capture = {
    name: 'warren-sources',
    setup(builder) {
      builder.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        const bytes = readFileSync(args.path);
        sources.set(relative(ROOT, args.path).split(sep).join('/'), bytes);
        const text = bytes.toString('utf8');
        const self = pathToFileURL(args.path).href;
        const rewritten = text.replace(IMPORT_META, (_, what) => JSON.stringify(what === 'url' ? self : what === 'dirname' ? dirname(args.path) : args.path));
        return { contents: rewritten, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: ENTRY },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20', // package.json engines
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.json'),
    outdir: 'out',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [capture],
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!sources.has(input)) sources.set(input, readFileSync(join(ROOT, input)));
  }
  const print = fingerprint(sources);
  mkdirSync(CACHE_DIR, { recursive: true });
  const target = join(CACHE_DIR, print);
  if (!existsSync(join(target, 'main.mjs'))) {
    const scratch = join(CACHE_DIR, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
    const outdir = join(ROOT, 'out');
    for (const file of result.outputFiles) {
      const path = join(scratch, relative(outdir, file.path));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.contents);
    }
    try {
      renameSync(scratch, target);
    } catch (error) {
      rmSync(scratch, { recursive: true, force: true });
      if (!existsSync(join(target, 'main.mjs'))) throw error; // else another CLI stored the same build first
    }
  }
  const manifest = join(CACHE_DIR, `.manifest-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(manifest, JSON.stringify({ fingerprint: print, inputs: [...sources.keys()].sort(), builtAt: new Date().toISOString() }));
  renameSync(manifest, MANIFEST);
  removeOldBundles(print);
  return pathToFileURL(join(target, 'main.mjs')).href;
}

/** esbuild, which tsx depends on: hoisted to node_modules, else from tsx's own node_modules. */
async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    const fromTsx = createRequire(createRequire(join(ROOT, 'package.json')).resolve('tsx/package.json'));
    return import(pathToFileURL(fromTsx.resolve('esbuild')).href);
  }
}

/** Best effort: deletes bundles other than `current` not touched for {@link STALE_BUNDLE_MS}. */
function removeOldBundles(current) {
  for (const name of readdirSync(CACHE_DIR)) {
    if (name === current || name.startsWith('manifest-')) continue;
    const path = join(CACHE_DIR, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUNDLE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // another CLI removed it first
    }
  }
}
