/**
 * Zoom-CAM (Shi, Khademi, Li, van Gemert 2020): per layer, element-wise gradient × activation
 * `relu(Σ_k ∂f_c/∂A_k ⊙ A_k)` instead of pooled weights; each layer's map is upsampled to the input,
 * divided by its maximum over the image (so it lies in [0, 1]) and the layers are fused by maximum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { camInput, camLayers, camOverChunks, upsample, weightedSum } from './cam-layers';

/** Options of {@link zoomCam}. */
export interface ZoomCamOptions extends CommonOptions {
  /** Names of the layers whose maps are fused, e.g. the last layer of every convolutional stage. */
  layers: string[];
}

const ZOOM_CAM_KEYS = optionKeys<ZoomCamOptions>()('layers', ...COMMON_OPTION_KEYS);

/**
 * Zoom-CAM map of the target score fused over `options.layers`, shape `[N, H, W, 1]` with values in
 * [0, 1], for an image batch `x: [N, H, W, C]`. Every layer's output must be `[N, h, w, k]`.
 * @example
 * const cam = await zoomCam(model, images, { target: 281, layers: ['block3_out', 'block4_out', 'block5_out'] });
 */
export async function zoomCam(model: ModelLike, x: tf.Tensor, options: ZoomCamOptions): Promise<tf.Tensor4D> {
  const call = await prepareCall(model, x, options, { keys: ZOOM_CAM_KEYS, gradients: false });
  try {
    const names = options?.layers;
    if (!Array.isArray(names) || names.length === 0) {
      throw new GlassboxArgumentError('options.layers', `expected a non-empty array of layer names, got ${describeValue(names)}`);
    }
    const input = camInput(call, 'zoomCam');
    const layers = camLayers(call, names, 'options.layers', 'zoomCam');
    const size: [number, number] = [input.shape[1], input.shape[2]];
    return (await camOverChunks(call, layers, 'gradients', (taps) =>
      taps
        .map(({ activation, gradient }) => {
          const map = upsample(tf.relu(weightedSum(gradient, activation)), size);
          return tf.divNoNan(map, tf.max(map, [1, 2], true));
        })
        .reduce((fused, map) => tf.maximum(fused, map)),
    )) as tf.Tensor4D;
  } finally {
    call.dispose();
  }
}
