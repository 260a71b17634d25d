/**
 * Per-token attribution of a text classifier: `npx tsx examples/text-attribution.ts [--backend cpu|wasm]`
 * trains a small Embedding → Conv1D → max-pool classifier on a synthetic sentiment corpus (cached in
 * examples/.cache/text-classifier), explains a few sentences with layer Integrated
 * Gradients at the embedding's output (baseline: all padding), sums over the embedding axis for one score
 * per token, and writes examples/output/text/index.html with every token coloured by its score (red:
 * towards "positive", blue: towards "negative"). It prints the same numbers as a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { colouredTokens, TOKEN_CSS } from './support/token-html';
import { explainSentences, trainedTextClassifier } from './text-classifier';

const OUTPUT = join('examples', 'output', 'text');
const CACHE = join('examples', '.cache', 'text-classifier');
const STEPS = 50;

const SENTENCES = [
  'the movie was very good',
  'the movie was not good',
  'the ending was not very good',
  'the plot was never boring',
  'the acting is hardly enjoyable',
  'this film seemed quite terrible',
  'the music was lovely and the ending was brilliant',
  'it felt really dull and the cast was weak',
  'the story is not bad and the music is great',
];

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  await tf.setBackend(argument('backend', 'wasm'));
  console.log(`tfjs backend: ${tf.getBackend()}`);
  mkdirSync(OUTPUT, { recursive: true });
  const { model, accuracy } = await trainedTextClassifier(CACHE);
  console.log(`test accuracy: ${(100 * accuracy).toFixed(1)}%`);
  const started = performance.now();
  const explained = await explainSentences(model, SENTENCES, STEPS);
  const seconds = (performance.now() - started) / 1000;
  console.log(`layerIntegratedGradients, ${STEPS} steps, ${SENTENCES.length} sentences: ${seconds.toFixed(2)} s\n`);

  console.log('| sentence (per-token score) | f(x) | Σ scores | f(x) − f(pad) |');
  console.log('|---|---:|---:|---:|');
  for (const s of explained) {
    const words = s.tokens.map((t, i) => `${t} ${s.scores[i] >= 0 ? '+' : '−'}${Math.abs(s.scores[i]).toFixed(2)}`).join(', ');
    console.log(`| ${words} | ${s.margin.toFixed(2)} | ${s.total.toFixed(3)} | ${s.difference.toFixed(3)} |`);
  }

  const scale = Math.max(...explained.flatMap((s) => s.scores.map(Math.abs)));
  const rows = explained.map(
    (s) =>
      `<tr><td>${colouredTokens(s.tokens, s.scores, scale)}</td><td>${s.margin > 0 ? 'positive' : 'negative'} (${s.margin.toFixed(2)})</td>` +
      `<td>${s.total.toFixed(3)}</td><td>${s.difference.toFixed(3)}</td></tr>`,
  );
  writeFileSync(
    join(OUTPUT, 'index.html'),
    `<!doctype html>
<html><head><meta charset="utf-8"><title>tfjs-glassbox: per-token attribution</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;text-align:left}${TOKEN_CSS}</style></head><body>
<h1>Which words decide? Layer Integrated Gradients on a text classifier</h1>
<p>Embedding → Conv1D (3-word windows) → max pooling → 2 logits, trained on a synthetic sentiment corpus with negation
(test accuracy ${(100 * accuracy).toFixed(1)}%, tfjs <code>${tf.getBackend()}</code>). The explained score is the logit margin
f = logit(positive) − logit(negative); <code>layerIntegratedGradients(model, ids, { layer: 'embedding', target: margin, steps: ${STEPS} })</code>
with the all-padding baseline (id 0), summed over the embedding axis by <code>tokenAttributions</code>. Red words push towards
"positive", blue ones towards "negative"; the scores of a sentence add up to f(x) − f(padding).</p>
<table><tr><th>sentence</th><th>prediction (f)</th><th>Σ scores</th><th>f(x) − f(padding)</th></tr>
${rows.join('\n')}
</table></body></html>
`,
  );
  console.log(`\nwrote ${join(OUTPUT, 'index.html')}`);
  model.dispose();
}

await main();
