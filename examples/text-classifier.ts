/**
 * A small text classifier on the synthetic sentiment corpus (examples/data/sentiment.ts): token ids →
 * Embedding → Conv1D over 3-word windows (enough to see "not good") → global max pooling → 2 logits,
 * trained in seconds and cached on disk; and its per-token explanation with layer Integrated Gradients at
 * the embedding's output, summed over the embedding axis.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layerIntegratedGradients, tokenAttributions } from '../src/index';
import { encode, SENTENCE_LENGTH, sentimentCorpus, VOCABULARY } from './data/sentiment';
import { loadOrTrain } from './support/cached-model';
import { testAccuracy, trainClassifier } from './support/train';

/** Ids `[N, 14]` and one-hot labels `[N, 2]` of `count` sentences. */
function sentimentTensors(count: number, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const corpus = sentimentCorpus(count, seed);
  return [
    tf.tensor2d(corpus.map((s) => encode(s.text)), [count, SENTENCE_LENGTH], 'int32'),
    tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(corpus.map((s) => s.label), 'int32'), 2), 'float32')) as tf.Tensor2D,
  ];
}

function buildTextClassifier(): tfl.Sequential {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: k });
  return tfl.sequential({
    layers: [
      tfl.layers.embedding({
        inputDim: VOCABULARY.length,
        outputDim: 16,
        inputLength: SENTENCE_LENGTH,
        embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 1 }),
        // Keeps words the task does not need (subjects, verbs) near the origin, where the padding is.
        embeddingsRegularizer: tfl.regularizers.l2({ l2: 1e-3 }),
        name: 'embedding',
      }),
      tfl.layers.conv1d({ filters: 24, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2), name: 'ngrams' }),
      tfl.layers.globalMaxPooling1d({ name: 'pool' }),
      tfl.layers.dense({ units: 2, kernelInitializer: init(3), name: 'logits' }),
    ],
  });
}

/** Trains the classifier on 2000 sentences (or loads it from `cacheDir`); returns it with its accuracy on 500 others. */
export async function trainedTextClassifier(cacheDir: string, log: (line: string) => void = console.log) {
  const test = sentimentTensors(500, 2);
  const model = await loadOrTrain(
    cacheDir,
    'text classifier',
    async () => {
      const classifier = buildTextClassifier();
      const train = sentimentTensors(2000, 1);
      await trainClassifier(classifier, train, { epochs: 5, batchSize: 64, learningRate: 5e-3 });
      tf.dispose(train);
      return { model: classifier, what: '2000 synthetic sentences' };
    },
    log,
  );
  const accuracy = await testAccuracy(model, test);
  tf.dispose(test);
  return { model, accuracy };
}

/** One explained sentence: its words, one score per word, and the completeness check. */
export interface ExplainedSentence {
  text: string;
  tokens: string[];
  scores: number[];
  /** The explained score f(x): logit(positive) − logit(negative). */
  margin: number;
  /** Σ scores and f(x) − f(all padding). */
  total: number;
  difference: number;
}

/** The positive-minus-negative logit margin, the score explained. */
const margin = (output: tf.Tensor) => tf.reshape(tf.sub(tf.slice(output, [0, 1], [-1, 1]), tf.slice(output, [0, 0], [-1, 1])), [-1]) as tf.Tensor1D;

/**
 * Per-token layer IG of the margin (baseline: all padding, id 0): positive scores push towards
 * "positive", negative ones towards "negative"; they add up to f(x) − f(padding).
 */
export async function explainSentences(model: tfl.LayersModel, sentences: string[], steps: number): Promise<ExplainedSentence[]> {
  const ids = tf.tensor2d(sentences.map(encode), [sentences.length, SENTENCE_LENGTH], 'int32');
  const lig = await layerIntegratedGradients(model, ids, { layer: 'embedding', target: margin, steps });
  const perToken = tokenAttributions(lig);
  const margins = tf.tidy(() => margin(model.predict(ids) as tf.Tensor));
  const paddingMargin = tf.tidy(() => margin(model.predict(tf.zerosLike(ids)) as tf.Tensor));
  const [scores, values, [padded]] = [await perToken.array(), await margins.array(), await paddingMargin.array()];
  tf.dispose([ids, lig, perToken, margins, paddingMargin]);
  return sentences.map((text, i) => {
    const tokens = text.split(' ');
    return {
      text,
      tokens,
      scores: scores[i].slice(0, tokens.length),
      margin: values[i],
      total: scores[i].reduce((a, b) => a + b, 0),
      difference: values[i] - padded,
    };
  });
}
