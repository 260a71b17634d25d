/**
 * Guided Grad-CAM (Selvaraju et al. 2017), with Captum's semantics: guided backpropagation (see
 * `guidedBackprop`) multiplied element-wise by the layer's rectified Grad-CAM map `relu(Σ_k α_k A_k)`,
 * `α_k = mean_ij ∂f_c/∂A_k`, upsampled to the input and broadcast over its channels. The Grad-CAM
 * gradient is the ordinary one; only the guided factor has modified ReLUs.
 *
 * Upsampling: nearest neighbour, as Captum's `GuidedGradCam` (`interpolate_mode='nearest'`, PyTorch's
 * `F.interpolate`: output pixel `i` reads map pixel `⌊i·h/H⌋`), so every input pixel is scaled by the
 * value of the map cell it lies in. (`gradCam` itself upsamples bilinearly, as pytorch-grad-cam.)
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { guidedOverrides } from '../../core/backend-gaps';
import { evaluateGradients } from '../../core/evaluate';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { withGradientOverrides } from '../modified-gradients';
import { camInput, camLayers, camOverChunks } from './cam-layers';
import { gradCamSum, type CamOptions } from './gradient-cams';

const KEYS = optionKeys<CamOptions>()('layer', ...COMMON_OPTION_KEYS);

/** Nearest-neighbour upsampling of `[n, h, w, 1]` maps to `size` (PyTorch's `F.interpolate(mode='nearest')`). */
export function upsampleNearest(map: tf.Tensor, size: [number, number]): tf.Tensor4D {
  return tf.image.resizeNearestNeighbor(map as tf.Tensor4D, size, false, false);
}

/**
 * Guided Grad-CAM of the target score for an image batch `x: [N, H, W, C]`, shaped like `x`: guided
 * backpropagation ⊙ the nearest-upsampled rectified Grad-CAM of `options.layer` (default: the last
 * layer with a 4-D output). Progress counts examples.
 * @example
 * const map = await guidedGradCam(model, images, { target: 3, layer: 'conv2' });
 */
export async function guidedGradCam(model: ModelLike, x: tf.Tensor, options: CamOptions = {}): Promise<tf.Tensor4D> {
  const call = await prepareCall(model, x, options, { keys: KEYS, gradients: true });
  try {
    const input = camInput(call, 'guidedGradCam');
    const layers = camLayers(call, options.layer, 'options.layer', 'guidedGradCam');
    const size: [number, number] = [input.shape[1], input.shape[2]];
    const guided = withGradientOverrides(call.evaluator, guidedOverrides());
    const result = await camOverChunks(call, layers, 'gradients', ([tap], rows) => {
      const cam = upsampleNearest(tf.relu(gradCamSum(tap)), size);
      const [gradient] = evaluateGradients(guided, rows.inputs, rows.examples).gradients;
      return tf.mul(gradient, cam);
    });
    return result as tf.Tensor4D;
  } finally {
    call.dispose();
  }
}
