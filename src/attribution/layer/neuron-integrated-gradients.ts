/**
 * Neuron Integrated Gradients (Captum's `NeuronIntegratedGradients`): Integrated Gradients of one neuron
 * `A_j` of an inner layer with respect to the model inputs,
 * `(x − b) ⊙ Σ_k w_k ∇A_j(b + α_k (x − b))`; completeness `Σ ≈ A_j(x) − A_j(b)`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { prepareCall } from '../../core/prepare';
import { pathIntegral, type Baseline } from '../integrated-gradients';
import { quadrature, type QuadratureMethod } from '../quadrature';
import { attributedLayer } from './layer-evaluators';
import { neuronEvaluator } from './neuron';
import type { NeuronOptions } from './neuron-gradient';

/** Options of {@link neuronIntegratedGradients}. */
export interface NeuronIntegratedGradientsOptions extends NeuronOptions {
  /** Number of points on the path (default 50, as Captum). */
  steps?: number;
  /** Quadrature rule (default `'gausslegendre'`, as Captum). */
  method?: QuadratureMethod;
  /** Baseline (default 0): a number, or a tensor per input as for {@link integratedGradients}. */
  baseline?: Baseline;
}

const NEURON_IG_KEYS = optionKeys<NeuronIntegratedGradientsOptions>()('layer', 'neuron', 'steps', 'method', 'baseline', 'batchSize', 'onProgress', 'signal');

/**
 * Integrated Gradients of the neuron's value, shaped like `x` (one tensor per input when `x` is an
 * array). The neuron is the score: there is no `target`.
 * @example
 * const ig = await neuronIntegratedGradients(model, x, { layer: 'dense_1', neuron: [5], steps: 64 });
 */
export async function neuronIntegratedGradients(model: ModelLike, x: tf.Tensor, options: NeuronIntegratedGradientsOptions): Promise<tf.Tensor>;
export async function neuronIntegratedGradients(model: ModelLike, x: tf.Tensor[], options: NeuronIntegratedGradientsOptions): Promise<tf.Tensor[]>;
export async function neuronIntegratedGradients(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: NeuronIntegratedGradientsOptions,
): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: NEURON_IG_KEYS, gradients: true, anyOutput: true });
  let baselines: tf.Tensor[] = [];
  try {
    const layer = attributedLayer(call, options?.layer, 'neuronIntegratedGradients');
    const evaluator = neuronEvaluator(call.evaluator, layer, options?.neuron);
    const { alphas, weights } = quadrature(options?.method ?? 'gausslegendre', options?.steps ?? 50);
    baselines = await resolveReference(options?.baseline, call.inputs, 'options.baseline');
    return call.result(await pathIntegral(call, evaluator, baselines, alphas, weights));
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}
