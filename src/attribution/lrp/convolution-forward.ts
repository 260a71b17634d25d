/**
 * The forward convolution of LRP's linear steps (the program's forward pass and the rules' modified
 * passes, several per layer).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { derivedFromConstants } from '../../core/backend-gaps/scope-context';
import type { ConvPadding } from './linear-transposes';

/**
 * Below this many positions (batch × rows × columns) the swapped filter below costs more than it saves
 * (tfjs-backend-cpu transposes element by element through index arrays): on MobileNetV2 it pays from
 * 14×14 maps on, not on 7×7 ones.
 */
const MIN_POSITIONS = 128;

/**
 * `conv2d(x, weight) + bias` (NHWC, filter `[fh, fw, in, out]`, bias `[out]` or `null`). The bias is
 * fused into the convolution (wasm's XNNPACK adds it while it accumulates: a separate broadcast add
 * costs more than the bias is worth). On tfjs-backend-cpu a pointwise convolution (1×1 filter, stride 1)
 * over at least {@link MIN_POSITIONS} positions runs as the transposed convolution of `x` with the
 * filter's channel axes swapped: the same sums `z[p, o] = Σ_i x[p, i]·W[i, o]` (in another order:
 * rounding differs by about 1e−7 relatively), 20–30 % faster there, because that kernel keeps each sum
 * in a register where the forward kernel adds each product into memory (`bench/lrp.ts`). The swapped
 * filter of a constant is computed once per call. Other backends and geometries run `tf.fused.conv2d`.
 */
export function conv2dForward(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor | null,
  strides: [number, number],
  padding: ConvPadding,
  dilations: [number, number],
): tf.Tensor4D {
  const [fh, fw, , outChannels] = weight.shape;
  const pointwise = fh === 1 && fw === 1 && strides[0] === 1 && strides[1] === 1 && (padding === 'same' || padding === 'valid');
  const positions = x.shape[0] * x.shape[1] * x.shape[2];
  if (!pointwise || positions < MIN_POSITIONS || tf.getBackend() !== 'cpu') {
    return withBias(bias, (fusedBias) => tf.fused.conv2d({ x, filter: weight, bias: fusedBias, strides, pad: padding, dataFormat: 'NHWC', dilations }));
  }
  const swapped = derivedFromConstants('pointwise forward: swapped filter', [weight], (w) => tf.transpose(w, [0, 1, 3, 2])) as tf.Tensor4D;
  const z = tf.conv2dTranspose(x, swapped, [x.shape[0], x.shape[1], x.shape[2], outChannels], 1, 'valid');
  return bias === null ? z : tf.add(z, bias);
}

/**
 * `depthwiseConv2d(x, weight) + bias` (NHWC, filter `[fh, fw, channels, multiplier]`, bias
 * `[channels·multiplier]` or `null`), the bias fused as in {@link conv2dForward}.
 */
export function depthwiseForward(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor | null,
  strides: [number, number],
  padding: ConvPadding,
  dilations: [number, number],
): tf.Tensor4D {
  return withBias(bias, (fusedBias) =>
    tf.fused.depthwiseConv2d({ x, filter: weight, bias: fusedBias, strides, pad: padding as 'same', dataFormat: 'NHWC', dilations }),
  );
}

/** `convolve(bias)` with a bias of one value per channel fused; any other bias added afterwards. */
function withBias(bias: tf.Tensor | null, convolve: (bias: tf.Tensor | undefined) => tf.Tensor4D): tf.Tensor4D {
  if (bias === null || bias.rank === 1) return convolve(bias ?? undefined);
  return tf.add(convolve(undefined), bias);
}
