/**
 * Neuron gradient (Captum's `NeuronGradient`): the gradient of one neuron of an inner layer with respect
 * to the model inputs, `∂A_j(x)/∂x`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../../core/accumulate';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import type { CommonOptions } from '../../core/options';
import { exampleRows, prepareCall } from '../../core/prepare';
import { attributedLayer } from './layer-evaluators';
import { neuronEvaluator } from './neuron';

/** The options every neuron attribution takes. */
export interface NeuronOptions extends Pick<CommonOptions, 'batchSize' | 'onProgress' | 'signal'> {
  /** Name of the layer (inside nested models too). */
  layer: string;
  /** Index of the neuron in the layer's output, batch axis excluded (e.g. `[row, column, channel]` of a conv layer). */
  neuron: number[];
}

const NEURON_GRADIENT_KEYS = optionKeys<NeuronOptions>()('layer', 'neuron', 'batchSize', 'onProgress', 'signal');

/**
 * Gradient of the neuron's value with respect to `x`, shaped like `x` (one tensor per input when `x` is
 * an array). The neuron is the score: there is no `target`.
 * @example
 * const g = await neuronGradient(model, x, { layer: 'conv2', neuron: [3, 4, 7] });
 */
export async function neuronGradient(model: ModelLike, x: tf.Tensor, options: NeuronOptions): Promise<tf.Tensor>;
export async function neuronGradient(model: ModelLike, x: tf.Tensor[], options: NeuronOptions): Promise<tf.Tensor[]>;
export async function neuronGradient(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: NeuronOptions): Promise<tf.Tensor | tf.Tensor[]> {
  const call = await prepareCall(model, x, options, { keys: NEURON_GRADIENT_KEYS, gradients: true, anyOutput: true });
  try {
    const layer = attributedLayer(call, options?.layer, 'neuronGradient');
    const gradients = await collectOverRows({
      ...call.plan,
      evaluator: neuronEvaluator(call.evaluator, layer, options?.neuron),
      total: call.numExamples,
      needs: 'gradients',
      points: (start, count) => exampleRows(call, start, count),
      terms: (_rows, evaluation) => evaluation.gradients!,
    });
    return call.result(gradients);
  } finally {
    call.dispose();
  }
}
