#!/usr/bin/env node
// Bundles services for production: `ticket-bundle [service…] [--out-dir <dir>] [--no-minify] [--metafile]`.
// Each services/<name>/src/main.ts and everything it imports (workspaces and node_modules) becomes one ES module,
// services/<name>/dist/main.js, which `make up` and the Docker image run. Without names, all four.
//
// Why: run from its .ts sources, a service's process resolves, reads and strips ~1,000 modules at start and keeps
// their sources and Node's per-module bookkeeping resident (~150 MiB idle); the bundle is one script, minified, with
// no module graph to resolve (see `make bench-startup`).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const REPO_ROOT = resolve(import.meta.dirname, '../../../..');

export interface BundleOptions {
  /** Where the bundle goes; services/<name>/dist by default. */
  outDir?: string;
  /** Smaller script source, hence less memory held for it (the default). */
  minify?: boolean;
  /** Also write meta.json beside the bundle: what each module adds (esbuild's metafile, for the analyzer). */
  metafile?: boolean;
}

export const bundleDir = (service: string): string => join(REPO_ROOT, 'services', service, 'dist');

export const serviceNames = async (): Promise<string[]> =>
  (await readdir(join(REPO_ROOT, 'services'), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

/**
 * Runs before the bundle. CommonJS dependencies (pino, kafkajs…) call require() for Node's built-ins, which an ES
 * module does not have. pino starts a LOG_PRETTY transport's worker from a file beside its own module (`__dirname`,
 * which a bundle lacks): pino and thread-stream ask these paths first, resolved from node_modules only when a
 * transport starts; production logs JSON lines to stdout and starts none.
 */
const BANNER = `import { createRequire as __createRequire } from 'node:module';
const require = __createRequire(import.meta.url);
globalThis.__bundlerPathsOverrides = {
  get 'pino-worker'() { return require.resolve('pino/lib/worker.js'); },
  get 'thread-stream-worker'() { return require.resolve('thread-stream/lib/worker.js'); },
};`;

/** Builds one service's bundle; returns its path. */
export async function bundleService(service: string, options: BundleOptions = {}): Promise<string> {
  const outDir = options.outDir ?? bundleDir(service);
  const outfile = join(outDir, 'main.js');
  const result = await build({
    entryPoints: [join(REPO_ROOT, 'services', service, 'src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Whitespace and syntax only: renaming identifiers as well made the bundle 0.8 MB smaller, yet the process held
    // 13 MiB more of malloc'ed memory once idle (118 against 105 MiB, booking); stack traces keep their names too.
    minifyWhitespace: options.minify ?? true,
    minifySyntax: options.minify ?? true,
    legalComments: 'none',
    metafile: options.metafile ?? false,
    banner: { js: BANNER },
    plugins: [withoutModuleHooks, onlyEnglishZodMessages, sourceDirectories(outDir)],
    logLevel: 'warning',
  });
  if (result.metafile) await writeFile(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  return outfile;
}

/**
 * The module hooks (module-hooks.ts) only speed up how Node resolves drizzle-orm's 450 modules; in a bundle there is
 * nothing left to resolve, and registering them would only put a hook in front of every later import.
 */
const withoutModuleHooks: Plugin = {
  name: 'without-module-hooks',
  setup(build) {
    build.onResolve({ filter: /^@ticket\/platform\/module-hooks$/ }, () => ({
      path: 'module-hooks',
      namespace: 'empty',
    }));
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '', loader: 'js' }));
  },
};

/**
 * zod exports the messages of its 40-odd languages as `z.locales` (a tenth of the bundle, run at start); the services
 * only ever use English, which zod installs itself from locales/en.js.
 */
const onlyEnglishZodMessages: Plugin = {
  name: 'only-english-zod-messages',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, ({ importer, resolveDir }) =>
      /[/\\]node_modules[/\\]zod[/\\]/.test(importer)
        ? { path: 'zod-locales', namespace: 'zod-locales', pluginData: { resolveDir } }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, ({ pluginData }) => ({
      contents: "export { default as en } from '../locales/en.js';",
      resolveDir: (pluginData as { resolveDir: string }).resolveDir,
      loader: 'js',
    }));
  },
};

/**
 * Sources that find files beside them by `import.meta.dirname` (a service's migrations, the contracts' descriptor
 * set) keep finding the same files in the repository, or in the same layout in the image: in the bundle, each one's
 * `import.meta.dirname` becomes its own source folder, as a path from the bundle's folder (services/<name>/dist).
 */
function sourceDirectories(outDir: string): Plugin {
  return {
    name: 'source-directories',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        if (path.includes('/node_modules/')) return undefined;
        const source = await readFile(path, 'utf8');
        if (!source.includes('import.meta.dirname')) return undefined;
        const fromBundle = relative(outDir, dirname(path)).replaceAll('\\', '/');
        return {
          contents: source.replaceAll(
            'import.meta.dirname',
            `(import.meta.dirname + ${JSON.stringify(`/${fromBundle}`)})`,
          ),
          loader: 'ts',
        };
      });
    },
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'out-dir': { type: 'string' },
      'no-minify': { type: 'boolean', default: false },
      metafile: { type: 'boolean', default: false },
    },
  });
  const all = await serviceNames();
  const unknown = positionals.filter((name) => !all.includes(name));
  if (unknown.length > 0 || (values['out-dir'] && positionals.length !== 1)) {
    console.error(
      `usage: ticket-bundle [${all.join('|')}…] [--out-dir <dir> (one service)] [--no-minify] [--metafile]`,
    );
    process.exit(2);
  }
  for (const service of positionals.length > 0 ? positionals : all) {
    const started = performance.now();
    const outfile = await bundleService(service, {
      outDir: values['out-dir'] && resolve(values['out-dir']),
      minify: !values['no-minify'],
      metafile: values.metafile,
    });
    console.log(`${service}: ${relative(process.cwd(), outfile)} (${(performance.now() - started).toFixed(0)} ms)`);
  }
}
