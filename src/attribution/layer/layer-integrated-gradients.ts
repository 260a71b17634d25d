/**
 * Layer Integrated Gradients (Captum's `LayerIntegratedGradients`): Integrated Gradients of the target
 * score with respect to the output of an inner layer. With `y = A(x)` and `y₀ = A(b)` the layer's
 * outputs (after its activation) for the input and the baseline,
 *
 * `LIG(x) = (y − y₀) ⊙ Σ_k w_k ∂f_c/∂A (x; A := y₀ + α_k (y − y₀))`,
 *
 * where `f(x; A := a)` runs the model on `x` with the layer's output replaced by `a`. Completeness:
 * `Σ LIG ≈ f_c(x) − f_c(x; A := y₀)`, which is `f_c(x) − f_c(b)` whenever every path from the inputs to
 * the output passes through the layer (a model input that bypasses it keeps its value `x`, as in
 * Captum). The baseline is an input baseline: for token-id models, the ids of the reference text (e.g. 0,
 * the padding id), whose embedding is `y₀`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../../core/accumulate';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { perRow, prepareCall } from '../../core/prepare';
import type { Baseline } from '../integrated-gradients';
import { quadrature, type QuadratureMethod } from '../quadrature';
import { activationsOfRows } from './layer-activation';
import { attributedLayer, replacedLayerEvaluator } from './layer-evaluators';

/** Options of {@link layerIntegratedGradients}. */
export interface LayerIntegratedGradientsOptions extends CommonOptions {
  /** Name of the layer whose output is attributed (inside nested models too); for text, the Embedding. */
  layer: string;
  /** Number of points on the path (default 50, as Captum). */
  steps?: number;
  /** Quadrature rule (default `'gausslegendre'`, as Captum). */
  method?: QuadratureMethod;
  /** Input baseline (default 0; for token ids, the reference ids): a number, or a tensor per input as for {@link integratedGradients}. */
  baseline?: Baseline;
}

const LAYER_IG_KEYS = optionKeys<LayerIntegratedGradientsOptions>()('layer', 'steps', 'method', 'baseline', ...COMMON_OPTION_KEYS);

/**
 * Layer Integrated Gradients of the target score, shaped like the layer's output `[N, ...]`. Costs
 * `2N` forward passes (the layer at `x` and at the baseline) and `N·steps` forward and backward passes,
 * in chunks of `batchSize` rows; progress counts both.
 * @example
 * // One score per token of a text classifier: IG at the embedding output, summed over the embedding axis.
 * const lig = await layerIntegratedGradients(model, ids, { layer: 'embedding', target: 1 });
 * const perToken = tokenAttributions(lig); // [N, T]
 */
export async function layerIntegratedGradients(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: LayerIntegratedGradientsOptions,
): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: LAYER_IG_KEYS, gradients: false });
  let baselines: tf.Tensor[] = [];
  let endpoints: tf.Tensor | null = null;
  try {
    const layer = attributedLayer(call, options?.layer, 'layerIntegratedGradients');
    const { alphas, weights } = quadrature(options?.method ?? 'gausslegendre', options?.steps ?? 50);
    baselines = await resolveReference(options?.baseline, call.inputs, 'options.baseline');
    const n = call.numExamples;
    const steps = alphas.length;
    const total = 2 * n + n * steps;
    const report = call.plan.onProgress;
    const progress = (offset: number) => report && ((done: number) => report(offset + done, total));
    // Rows 0..N−1: y = A(x); rows N..2N−1: y₀ = A(b).
    endpoints = await activationsOfRows(
      call,
      layer,
      2 * n,
      (start, count) => call.inputs.tensors.map((input, k) => stackedRows([input, baselines[k]], start, count)),
      progress(0),
    );
    const ends = endpoints;
    const [integral] = await accumulateOverPoints({
      ...call.plan,
      onProgress: progress(2 * n),
      evaluator: replacedLayerEvaluator(call.evaluator, layer),
      numExamples: n,
      total: n * steps,
      needs: 'gradients',
      points: (start, count) => {
        const examples = Int32Array.from({ length: count }, (_, i) => Math.floor((start + i) / steps));
        const rowAlphas = Float32Array.from({ length: count }, (_, i) => alphas[(start + i) % steps]);
        const indices = tf.tensor1d(examples, 'int32');
        const y = tf.gather(ends, indices);
        const y0 = tf.gather(ends, tf.tensor1d(examples.map((e) => e + n), 'int32'));
        const point = tf.add(y0, tf.mul(perRow(rowAlphas, y.rank - 1), tf.sub(y, y0)));
        return { inputs: [...call.inputs.tensors.map((input) => tf.gather(input, indices)), point], examples };
      },
      terms: (rows, evaluation) => {
        const gradient = evaluation.gradients![evaluation.gradients!.length - 1];
        const rowWeights = Float32Array.from({ length: rows.count }, (_, i) => weights[(rows.start + i) % steps]);
        return [tf.mul(gradient, perRow(rowWeights, gradient.rank - 1))];
      },
    });
    try {
      return tf.tidy(() => tf.mul(tf.sub(tf.slice(ends, 0, n), tf.slice(ends, n, n)), integral));
    } finally {
      integral.dispose();
    }
  } finally {
    endpoints?.dispose();
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/** Rows `[start, start + count)` of the tensors in `stack` (each `[n, ...]`) concatenated along the batch axis. */
function stackedRows(stack: readonly tf.Tensor[], start: number, count: number): tf.Tensor {
  const n = stack[0].shape[0];
  const pieces: tf.Tensor[] = [];
  for (let r = start; r < start + count; ) {
    const offset = r % n;
    const take = Math.min(n - offset, start + count - r);
    pieces.push(tf.slice(stack[Math.floor(r / n)], offset, take));
    r += take;
  }
  return pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
}
