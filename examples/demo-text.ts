/**
 * The demo's text section: the small sentiment classifier (examples/text-classifier.ts) explained per
 * token with layer Integrated Gradients at its embedding's output; returns the section's HTML, each word
 * coloured by its score (red: towards "positive", blue: towards "negative").
 */
import { colouredTokens } from './support/token-html';
import { explainSentences, trainedTextClassifier } from './text-classifier';

const SENTENCES = [
  'the movie was very good',
  'the movie was not good',
  'the plot was never boring',
  'this film seemed quite terrible',
  'the story is not bad and the music is great',
];
const STEPS = 32;

export async function textSection(cacheDir: string): Promise<string> {
  const { model, accuracy } = await trainedTextClassifier(cacheDir);
  const started = performance.now();
  const explained = await explainSentences(model, SENTENCES, STEPS);
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  console.log(`${'layer IG (text)'.padEnd(22)} ${seconds.toFixed(2)} s`);
  const scale = Math.max(...explained.flatMap((s) => s.scores.map(Math.abs)));
  const rows = explained.map(
    (s) => `<tr><td style="text-align:left">${colouredTokens(s.tokens, s.scores, scale)}</td><td>${s.margin.toFixed(2)}</td><td>${s.total.toFixed(2)}</td></tr>`,
  );
  return `<h2>Which words decide? Layer Integrated Gradients on a text classifier</h2>
<p>Token ids → Embedding → Conv1D (3-word windows) → max pooling → 2 logits, trained on a synthetic sentiment corpus with
negation (test accuracy ${(100 * accuracy).toFixed(1)}%). Token ids have no gradient, so the attribution is made at the embedding's
output: <code>layerIntegratedGradients(model, ids, { layer: 'embedding', target: margin, steps: ${STEPS} })</code> (baseline: all
padding, id 0), summed over the embedding axis by <code>tokenAttributions</code> (${seconds.toFixed(2)} s for ${SENTENCES.length}
sentences). The score is the margin f = logit(positive) − logit(negative); red words raise it, blue ones lower it, and a sentence's
scores add up to f(x) − f(padding).</p>
<table><tr><th>sentence</th><th>f(x)</th><th>Σ scores</th></tr>
${rows.join('\n')}
</table>`;
}
