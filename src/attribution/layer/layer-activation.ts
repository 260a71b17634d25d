/**
 * Layer activation (Captum's `LayerActivation`): the output of an inner layer of a LayersModel for every
 * example, `[N, ...layerShape]`, computed in chunks. No target: nothing is differentiated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { forEachChunk } from '../../core/chunks';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import type { CommonOptions } from '../../core/options';
import { exampleRows, prepareCall, type PreparedCall } from '../../core/prepare';
import { layerActivations } from '../layer-gradients';
import { attributedLayer } from './layer-evaluators';

/** Options of {@link layerActivation}. */
export interface LayerActivationOptions extends Pick<CommonOptions, 'batchSize' | 'onProgress' | 'signal'> {
  /** Name of the layer (inside nested models too). */
  layer: string;
}

const LAYER_ACTIVATION_KEYS = optionKeys<LayerActivationOptions>()('layer', 'batchSize', 'onProgress', 'signal');

/**
 * The output of `options.layer` for every example of `x` (one tensor, or one per model input), shaped
 * like the layer output, batch first.
 * @example
 * const hidden = await layerActivation(model, x, { layer: 'dense_1' });
 */
export async function layerActivation(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: LayerActivationOptions): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: LAYER_ACTIVATION_KEYS, gradients: false, anyOutput: true });
  try {
    const layer = attributedLayer(call, options?.layer, 'layerActivation');
    return await activationsOfRows(call, layer, call.numExamples, (start, count) => exampleRows(call, start, count).inputs, call.plan.onProgress);
  } finally {
    call.dispose();
  }
}

/**
 * The layer's output for rows `[0, total)` of a row set (`rows(start, count)` builds the model inputs of
 * rows `[start, start + count)`, inside a tidy), `[total, ...layerShape]`, in chunks of the call's batch
 * size, with `onProgress` counting rows. Row `r` belongs to example `r mod N` (row sets are the
 * examples, or the examples followed by their baselines).
 */
export async function activationsOfRows(
  call: PreparedCall,
  layer: tfl.layers.Layer,
  total: number,
  rows: (start: number, count: number) => tf.Tensor[],
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<tf.Tensor> {
  const parts: tf.Tensor[] = [];
  try {
    await forEachChunk({ ...call.plan, onProgress, total }, (chunk) => {
      parts.push(
        tf.tidy(() => {
          const examples = Int32Array.from({ length: chunk.count }, (_, i) => (chunk.start + i) % call.numExamples);
          const [activation] = layerActivations(call.evaluator, [layer], rows(chunk.start, chunk.count), examples);
          chunk.memory.sample();
          return activation;
        }),
      );
    });
    return parts.length === 1 ? parts.pop()! : tf.concat(parts, 0);
  } finally {
    parts.forEach((t) => t.dispose());
  }
}
