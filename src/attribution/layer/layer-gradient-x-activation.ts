/**
 * Layer gradient × activation (Captum's `LayerGradientXActivation`): `A ⊙ ∂f_c/∂A` for the output `A`
 * of an inner layer, the first-order Taylor contribution of each unit to the target score.
 */
import * as tf from '@tensorflow/tfjs-core';
import { collectOverRows } from '../../core/accumulate';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { exampleRows, prepareCall } from '../../core/prepare';
import { layerActivations } from '../layer-gradients';
import { attributedLayer, replacedLayerEvaluator } from './layer-evaluators';

/** Options of {@link layerGradientXActivation}. */
export interface LayerGradientXActivationOptions extends CommonOptions {
  /** Name of the layer (inside nested models too). */
  layer: string;
}

const LAYER_GXA_KEYS = optionKeys<LayerGradientXActivationOptions>()('layer', ...COMMON_OPTION_KEYS);

/**
 * `A ⊙ ∂f_c/∂A` at `options.layer`, shaped like the layer's output.
 * @example
 * const gxa = await layerGradientXActivation(model, x, { layer: 'conv2', target: 3 });
 */
export async function layerGradientXActivation(
  model: ModelLike,
  x: tf.Tensor | tf.Tensor[],
  options: LayerGradientXActivationOptions,
): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: LAYER_GXA_KEYS, gradients: false });
  try {
    const layer = attributedLayer(call, options?.layer, 'layerGradientXActivation');
    const [attribution] = await collectOverRows<tf.Tensor>({
      ...call.plan,
      evaluator: replacedLayerEvaluator(call.evaluator, layer),
      total: call.numExamples,
      needs: 'gradients',
      points: (start, count) => {
        const { inputs, examples } = exampleRows(call, start, count);
        const [activation] = layerActivations(call.evaluator, [layer], inputs, examples);
        return { inputs: [...inputs, activation], examples, extra: activation };
      },
      terms: (rows, evaluation) => [tf.mul(evaluation.gradients![evaluation.gradients!.length - 1], rows.extra)],
    });
    return attribution;
  } finally {
    call.dispose();
  }
}
