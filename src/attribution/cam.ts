/**
 * Class-activation maps of tfjs LayersModels.
 *
 * - Grad-CAM (Selvaraju et al. 2017): `α_k = mean_{i,j} ∂f_c/∂A_k(i, j)`, map `= ReLU(Σ_k α_k A_k)`
 *   (Captum leaves the ReLU off by default; we apply it, `relu: false` turns it off), upsampled
 *   bilinearly to the input. On a network whose layer feeds global average pooling and a dense layer,
 *   it is the classic CAM (Zhou et al. 2016) `Σ_k w_kc A_k` divided by the layer's `h·w`.
 * - Zoom-CAM (Shi, Khademi, Li, van Gemert 2020): per layer, element-wise gradient × activation
 *   `ReLU(Σ_k ∂f_c/∂A_k ⊙ A_k)` instead of pooled weights; each layer's map is upsampled to the input,
 *   divided by its maximum over the image (so it lies in [0, 1]) and the layers are fused by maximum.
 *
 * Maps are returned as `[N, H, W, 1]`: one channel in tfjs's NHWC layout (Captum's `[N, 1, H, W]`
 * transposed), which broadcasts against the input `[N, H, W, C]`. Upsampling uses half-pixel centres
 * (`tf.image.resizeBilinear(map, [H, W], false, true)`, as OpenCV's `resize` in the Grad-CAM code).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { forEachChunk } from '../core/chunks';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { isLayersModel } from '../core/model';
import type { CommonOptions } from '../core/options';
import { exampleRange, prepareCall, type PreparedCall } from '../core/prepare';
import { layerGradients, tapLayers, type LayerGradients, type TappedGraph } from './layer-gradients';

/** Options of {@link gradCam}. */
export interface GradCamOptions extends CommonOptions {
  /** Name of the layer to explain, usually the last convolutional block (`model.getLayer(name)`). */
  layer: string;
  /** Apply ReLU to the weighted sum (default true, as the paper). */
  relu?: boolean;
}

/** Options of {@link zoomCam}. */
export interface ZoomCamOptions extends CommonOptions {
  /** Names of the layers whose maps are fused, e.g. the last layer of every convolutional stage. */
  layers: string[];
}

/**
 * Grad-CAM map of the target score at `options.layer`, shape `[N, H, W, 1]` for an image batch
 * `x: [N, H, W, C]`. The layer's output must be `[N, h, w, k]`.
 * @example
 * const cam = await gradCam(model, images, { target: 281, layer: 'conv_pw_13_relu' });
 */
export async function gradCam(model: tfl.LayersModel, x: tf.Tensor, options: GradCamOptions): Promise<tf.Tensor4D> {
  options = options ?? ({} as GradCamOptions);
  const relu = options.relu ?? true;
  if (typeof relu !== 'boolean') throw new GlassboxArgumentError('options.relu', `expected a boolean, got ${describeValue(relu)}`);
  return camOverChunks(model, x, options, [options.layer], 'options.layer', ([{ activation, gradient }], size) => {
    const weights = tf.mean(gradient, [1, 2], true);
    const weighted = tf.sum(tf.mul(weights, activation), 3, true);
    return upsample(relu ? tf.relu(weighted) : weighted, size);
  });
}

/**
 * Zoom-CAM map of the target score fused over `options.layers`, shape `[N, H, W, 1]` with values in
 * [0, 1], for an image batch `x: [N, H, W, C]`. Every layer's output must be `[N, h, w, k]`.
 * @example
 * const cam = await zoomCam(model, images, { target: 281, layers: ['block3_out', 'block4_out', 'block5_out'] });
 */
export async function zoomCam(model: tfl.LayersModel, x: tf.Tensor, options: ZoomCamOptions): Promise<tf.Tensor4D> {
  options = options ?? ({} as ZoomCamOptions);
  const layers = options.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new GlassboxArgumentError('options.layers', `expected a non-empty array of layer names, got ${describeValue(layers)}`);
  }
  return camOverChunks(model, x, options, layers, 'options.layers', (taps, size) =>
    taps
      .map(({ activation, gradient }) => {
        const map = upsample(tf.relu(tf.sum(tf.mul(gradient, activation), 3, true)), size);
        return tf.divNoNan(map, tf.max(map, [1, 2], true));
      })
      .reduce((fused, map) => tf.maximum(fused, map)),
  );
}

/** A tapped layer's activation and the gradient of the target score with respect to it. */
interface Tap {
  activation: tf.Tensor4D;
  gradient: tf.Tensor4D;
}

/** Validates, then computes `combine` (inside a tidy) for chunks of at most `batchSize` examples. */
async function camOverChunks(
  model: tfl.LayersModel,
  x: tf.Tensor,
  options: CommonOptions,
  layers: string[],
  argument: string,
  combine: (taps: Tap[], size: [number, number]) => tf.Tensor,
): Promise<tf.Tensor4D> {
  if (!isLayersModel(model)) {
    throw new GlassboxArgumentError('model', `expected a tf.LayersModel (its inner layers are needed), got ${describeValue(model)}`);
  }
  const graph = tapLayers(model, layers, argument);
  const call = await prepareCall(model, x, options);
  const parts: tf.Tensor[] = [];
  try {
    if (call.input.rank !== 4) {
      throw new GlassboxArgumentError('x', `expected an image batch [N, H, W, C], got ${describeValue(x)}`);
    }
    const size: [number, number] = [call.featureShape[0], call.featureShape[1]];
    await forEachChunk({ ...call.plan, total: call.numExamples }, (start, count) => {
      parts.push(chunkMap(graph, call, start, count, layers, argument, combine, size));
    });
    return tf.concat(parts, 0) as tf.Tensor4D;
  } finally {
    parts.forEach((t) => t.dispose());
    call.dispose();
  }
}

function chunkMap(
  graph: TappedGraph,
  call: PreparedCall,
  start: number,
  count: number,
  layers: string[],
  argument: string,
  combine: (taps: Tap[], size: [number, number]) => tf.Tensor,
  size: [number, number],
): tf.Tensor {
  const rows = tf.slice(call.input, start, count);
  let taps: LayerGradients;
  try {
    taps = layerGradients(graph, rows, call.target, exampleRange(start, count));
  } finally {
    rows.dispose();
  }
  const { activations, gradients } = taps;
  try {
    activations.forEach((a, i) => {
      if (a.rank !== 4) {
        const where = layers.length === 1 ? argument : `${argument}[${i}]`;
        throw new GlassboxArgumentError(
          where,
          `layer ${JSON.stringify(layers[i])} outputs shape [${a.shape.join(', ')}]; a class-activation map needs a spatial layer with output [N, h, w, channels]`,
        );
      }
    });
    return tf.tidy(() =>
      combine(activations.map((a, i) => ({ activation: a as tf.Tensor4D, gradient: gradients[i] as tf.Tensor4D })), size),
    );
  } finally {
    [...activations, ...gradients].forEach((t) => t.dispose());
  }
}

function upsample(map: tf.Tensor, size: [number, number]): tf.Tensor4D {
  return tf.image.resizeBilinear(map as tf.Tensor4D, size, false, true);
}
