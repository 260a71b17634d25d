/**
 * Bundles a snippet that imports `tfjs-glassbox` for the browser with esbuild, the way a user's bundler
 * would. The library is first built into one ES module as `npm run build` does (tsup is esbuild: same
 * format, target and externals), next to a copy of the package's `sideEffects` setting; then the
 * snippet is bundled against it: ESM, tree-shaken, tfjs external. Used by `npm run size` and by the
 * tree-shaking test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The library as one ES module (what `dist/index.js` holds), in a temporary package folder. */
async function buildLibrary(folder: string): Promise<string> {
  const { sideEffects } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { sideEffects: unknown };
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'tfjs-glassbox', type: 'module', sideEffects }));
  const file = join(folder, 'index.js');
  await build({
    entryPoints: [join(ROOT, 'src', 'index.ts')],
    outfile: file,
    bundle: true,
    format: 'esm',
    target: 'es2020',
    tsconfig: join(ROOT, 'tsconfig.json'),
    external: ['@tensorflow/*'],
    logLevel: 'error',
  });
  return file;
}

/** The bundled JavaScript of `source`, an ES module that imports from `"tfjs-glassbox"`. */
export async function bundleLibrary(source: string, { minify = false } = {}): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'glassbox-bundle-'));
  try {
    const library = await buildLibrary(folder);
    const result = await build({
      stdin: { contents: source, resolveDir: folder, loader: 'js' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify,
      logLevel: 'error',
      external: ['@tensorflow/*'],
      alias: { 'tfjs-glassbox': library },
    });
    return result.outputFiles[0].text;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
