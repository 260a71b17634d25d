/**
 * `npm run check:snippets` (part of `npm run typecheck`): type-checks every ```ts block of README.md and
 * docs/guides/*.md against the package's sources, and runs the blocks marked to run, so the examples
 * readers copy keep compiling as the API changes.
 *
 * Conventions in the Markdown (HTML comments, invisible on GitHub, npm and in the docs site):
 * - `<!-- snippet-context … -->` right before a block: TypeScript prepended to it when checking, for
 *   blocks that continue an earlier one or use a reader's own `model` and `images`
 *   (`declare const model: tfl.LayersModel;`).
 * - `<!-- snippet-run -->` right before a block: it is also executed with tsx (from the repository
 *   root) and must exit cleanly.
 *
 * Each block is an ES module (top-level await allowed); `tfjs-glassbox`, `tfjs-glassbox/node` and
 * `tfjs-glassbox/advanced` resolve to src/. The files are written to examples/output/snippets/.
 *
 *   npx tsx scripts/check-snippets.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'examples', 'output', 'snippets');
const SOURCES = ['README.md', ...readdirSync(join(ROOT, 'docs', 'guides')).filter((f) => f.endsWith('.md')).map((f) => join('docs', 'guides', f))];

interface Snippet {
  /** The Markdown file and the line of the block's first code line (1-based). */
  source: string;
  line: number;
  context: string[];
  code: string[];
  run: boolean;
  file: string;
}

/** The ```ts blocks of `source`, with the comments that precede them. */
function snippetsOf(source: string): Snippet[] {
  const lines = readFileSync(join(ROOT, source), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  let context: string[] = [];
  let run = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('<!-- snippet-context')) {
      const end = lines.findIndex((l, j) => j >= i && l.includes('-->'));
      context = lines.slice(i + 1, end);
      i = end;
      continue;
    }
    if (line.trim() === '<!-- snippet-run -->') {
      run = true;
      continue;
    }
    const fence = /^```(ts|typescript)\s*$/.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      const name = `${source.replace(/[^a-z0-9]+/gi, '-')}-${i + 2}.ts`;
      snippets.push({ source, line: i + 2, context, code: lines.slice(i + 1, end), run, file: join(OUT, name) });
      i = end;
    }
    if (line.trim() !== '') [context, run] = [[], false];
  }
  return snippets;
}

function writeProject(snippets: Snippet[]): void {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const s of snippets) writeFileSync(s.file, [...s.context, ...s.code, 'export {};', ''].join('\n'));
  const src = (path: string) => relative(OUT, join(ROOT, 'src', path));
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      isolatedModules: true,
      paths: {
        'tfjs-glassbox': [src('index.ts')],
        'tfjs-glassbox/node': [src('node/index.ts')],
        'tfjs-glassbox/advanced': [src('advanced.ts')],
      },
    },
    include: ['*.ts'],
  };
  writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
}

/** tsc's errors, pointed back at the Markdown lines. */
function typeCheck(snippets: Snippet[]): string[] {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(OUT, 'tsconfig.json'), '--pretty', 'false'], {
    encoding: 'utf8',
  });
  if (result.status === 0) return [];
  return result.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const match = /^(.*?\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
      const snippet = match && snippets.find((s) => s.file.endsWith(match[1].split('/').pop()!));
      if (!match || !snippet) return l;
      const line = Number(match[2]) - snippet.context.length;
      return line >= 1 ? `${snippet.source}:${snippet.line + line - 1}: ${match[4]}` : `${snippet.source}:${snippet.line} (snippet-context line ${match[2]}): ${match[4]}`;
    });
}

const snippets = SOURCES.flatMap(snippetsOf);
writeProject(snippets);
const errors = typeCheck(snippets);
for (const error of errors) console.error(error);
let failed = errors.length > 0;
if (!failed) {
  for (const s of snippets.filter((x) => x.run)) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), '--tsconfig', join(OUT, 'tsconfig.json'), s.file], {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 120_000,
      });
    } catch (error) {
      failed = true;
      console.error(`${s.source}:${s.line}: the snippet failed to run\n${String((error as { stderr?: Buffer }).stderr ?? error)}`);
    }
  }
}
console.log(`${snippets.length} snippets from ${SOURCES.length} files type-checked, ${snippets.filter((s) => s.run).length} run: ${failed ? 'FAILED' : 'ok'}`);
process.exit(failed ? 1 : 0);
