/**
 * Bundles the demo page's script (page.ts and the tokenisers it shares with the server) into one ES
 * module with esbuild, once per process. esbuild comes with tsx; it is loaded only when the page is first
 * asked for, so a server without it still serves predictions.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

let cached: Promise<string> | undefined;

/** The page entry next to this module: page.ts in the source tree, page.js once compiled. */
function entryFile(): string {
  for (const ext of ['.ts', '.js']) {
    const f = fileURLToPath(new URL(`./page${ext}`, import.meta.url));
    if (existsSync(f)) return f;
  }
  throw new Error('the demo page script (page.ts/page.js) is missing next to bundle.js');
}

/**
 * vocab.ts imports node:fs for Vocab.load/save, which the page never calls (it fetches vocab.txt and
 * parses the text); an empty module stands in so the rest of the file is shared as is.
 */
const nodeBuiltinsAbsent: Plugin = {
  name: 'node-builtins-absent',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-absent' }));
    build.onLoad({ filter: /.*/, namespace: 'node-absent' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

export function demoScript(): Promise<string> {
  cached ??= (async () => {
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      throw new Error('the demo page is bundled with esbuild, which is not installed (npm install esbuild)');
    }
    const result = await esbuild.build({
      entryPoints: [entryFile()],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [nodeBuiltinsAbsent],
    });
    return result.outputFiles[0].text;
  })();
  cached.catch(() => (cached = undefined)); // let a later request retry after a failure
  return cached;
}
