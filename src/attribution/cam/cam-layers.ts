/**
 * What every class-activation map shares: the layer it reads (named, inside nested models too, or by
 * default the last layer with a 4-D output of more than one spatial cell), its activations and gradients for chunks of examples, and
 * the bilinear upsampling to the input's size.
 *
 * Maps are `[N, H, W, 1]`: one channel in tfjs's NHWC layout (Captum's `[N, 1, H, W]` transposed),
 * which broadcasts against the input `[N, H, W, C]`. They are returned raw, not normalised (`heatmap`
 * scales for display). Upsampling uses half-pixel centres (`tf.image.resizeBilinear(map, [H, W], false,
 * true)`, as OpenCV's `resize` in pytorch-grad-cam).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { forEachChunk } from '../../core/chunks';
import { describeValue, GlassboxArgumentError } from '../../core/errors';
import { lastSpatialLayer } from '../../core/layers-graph';
import { exampleRows, type PreparedCall } from '../../core/prepare';
import { layerActivations, layerGradients, tapLayers } from '../layer-gradients';

type Layer = tfl.layers.Layer;

/** A tapped layer's activation `A` and the gradient `g = ∂f_c/∂A` of the target score, both `[n, h, w, k]`. */
export interface CamTap {
  activation: tf.Tensor4D;
  gradient: tf.Tensor4D;
}

/**
 * The layers a CAM reads: `names` (each must output `[N, h, w, k]`), or, when `names` is undefined, the
 * last layer of the model with a 4-D output of more than one spatial cell (a pooling to `[N, 1, 1, k]`
 * would give a constant map). `argument` names the option in errors.
 */
export function camLayers(call: PreparedCall, names: unknown, argument: string, method: string): Layer[] {
  if (names === undefined) {
    const model = call.model.layersModel;
    const layer = model === null ? null : lastSpatialLayer(model);
    if (layer === null) {
      throw new GlassboxArgumentError(argument, `${method} found no layer with a 4-D output [N, h, w, channels] in the model; name one`);
    }
    return tapLayers(call.model, [layer.name], argument, method);
  }
  const list = Array.isArray(names) ? names : [names];
  const layers = tapLayers(call.model, list, argument, method);
  layers.forEach((layer, i) => {
    const shape = layer.outputShape as (number | null)[];
    if (!Array.isArray(shape) || shape.length !== 4 || Array.isArray(shape[0])) {
      throw new GlassboxArgumentError(
        list.length === 1 ? argument : `${argument}[${i}]`,
        `layer ${JSON.stringify(layer.name)} outputs shape ${shapeText(shape)}; a class-activation map needs a spatial layer with output [N, h, w, channels]`,
      );
    }
  });
  return layers;
}

/** A symbolic shape for messages, the batch axis as `N`: `[N, 3]`. */
function shapeText(shape: unknown): string {
  if (!Array.isArray(shape) || Array.isArray(shape[0])) return describeValue(shape);
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;
}

/** The input image batch of a CAM call, `[N, H, W, C]`. */
export function camInput(call: PreparedCall, method: string): tf.Tensor4D {
  const input = call.single(method);
  if (input.rank !== 4) throw new GlassboxArgumentError('x', `expected an image batch [N, H, W, C], got ${describeValue(input)}`);
  return input as tf.Tensor4D;
}

/** The examples of one chunk: the model inputs of its rows and their example indices. */
export interface CamRows {
  inputs: tf.Tensor[];
  examples: Int32Array;
}

/**
 * Computes `combine(taps, rows)` (inside a tidy) for chunks of examples and concatenates the results
 * (caller disposes). `needs: 'activations'` skips the backward pass (the gradients are then absent).
 */
export async function camOverChunks(
  call: PreparedCall,
  layers: Layer[],
  needs: 'gradients' | 'activations',
  combine: (taps: CamTap[], rows: CamRows) => tf.Tensor,
): Promise<tf.Tensor> {
  const parts: tf.Tensor[] = [];
  try {
    await forEachChunk({ ...call.plan, total: call.numExamples }, (chunk) => {
      parts.push(
        tf.tidy(() => {
          const rows = exampleRows(call, chunk.start, chunk.count);
          const { inputs, examples } = rows;
          if (needs === 'activations') {
            const activations = layerActivations(call.evaluator, layers, inputs, examples);
            chunk.memory.sample();
            return combine(activations.map((a) => ({ activation: a as tf.Tensor4D, gradient: undefined as never })), rows);
          }
          const { activations, gradients } = layerGradients(call.evaluator, layers, inputs, examples, { memory: chunk.memory });
          return combine(activations.map((a, i) => ({ activation: a as tf.Tensor4D, gradient: gradients[i] as tf.Tensor4D })), rows);
        }),
      );
    });
    return parts.length === 1 ? parts.pop()! : tf.concat(parts, 0);
  } finally {
    parts.forEach((t) => t.dispose());
  }
}

/** Bilinear upsampling of `[n, h, w, 1]` maps to `size`, half-pixel centres. */
export function upsample(map: tf.Tensor, size: [number, number]): tf.Tensor4D {
  return tf.image.resizeBilinear(map as tf.Tensor4D, size, false, true);
}

/** `Σ_k w_k A_k` for per-channel weights `[n, 1, 1, k]` (or per-position `[n, h, w, k]`): `[n, h, w, 1]`. */
export function weightedSum(weights: tf.Tensor, activation: tf.Tensor): tf.Tensor4D {
  return tf.sum(tf.mul(weights, activation), 3, true) as tf.Tensor4D;
}
