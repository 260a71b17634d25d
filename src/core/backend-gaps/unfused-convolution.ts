/**
 * Dilated tfjs-layers `conv2d` layers under a gradient tape.
 *
 * A `Conv2D` layer calls `tf.fused.conv2d` with its kernel, bias and activation. Under a gradient tape
 * tfjs 4.22 unfuses it when the activation is not linear (`tf.conv2d` + bias + activation, each with a
 * registered gradient, which the scope makes dilation-aware), but keeps it fused when the activation is
 * linear, and also when the layer's activation is not fusable (tanh, sigmoid, softmax, …: the layer
 * then calls the fused op with a linear activation and applies its activation afterwards). The fused
 * op differentiates through its own `tf.customGrad` closure, which asserts dilation 1 ("Error in
 * gradient of fused conv2D: dilation rates greater than 1 are not yet supported in gradients") and
 * which no registry entry reaches. A graph runner therefore has to run such layers itself, unfused:
 * {@link needsUnfusedCall} says which, {@link unfusedConvolutionCall} computes the layer's output.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GlassboxArgumentError } from '../errors';

/**
 * The fields of tfjs-layers 4.22's `Conv2D` that its own `call` reads (protected in the type
 * declarations, plain properties at run time).
 */
interface Conv2DFields {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null | undefined;
  strides: number[];
  padding: 'valid' | 'same';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

const isConv2D = (layer: tfl.layers.Layer): boolean => layer.getClassName() === 'Conv2D';

/**
 * Whether a graph runner must run `layer` with {@link unfusedConvolutionCall} for its gradient to be
 * computable: a tfjs-layers `Conv2D` with a dilation rate above 1.
 */
export function needsUnfusedCall(layer: tfl.layers.Layer): boolean {
  if (!isConv2D(layer)) return false;
  return (layer as unknown as Conv2DFields).dilationRate.some((rate) => rate !== 1);
}

/**
 * The output of a tfjs-layers `Conv2D` layer for `input`, computed as the layer computes it but with
 * unfused ops: `activation(conv2d(x, kernel, strides, padding, dilations) + bias)`, in the layer's data
 * format (channels-first input is transposed to channels-last and back, as the layer does). Every op has
 * a registered gradient, so inside {@link withBackendGapFixesSync} dilated layers differentiate exactly.
 */
export function unfusedConvolutionCall(layer: tfl.layers.Layer, input: tf.Tensor): tf.Tensor {
  if (!isConv2D(layer)) {
    throw new GlassboxArgumentError('layer', `expected a tfjs-layers Conv2D layer, got a ${layer.getClassName()} (${layer.name})`);
  }
  const conv = layer as unknown as Conv2DFields;
  return tf.tidy(() => {
    const channelsFirst = conv.dataFormat === 'channelsFirst';
    const x = (channelsFirst ? tf.transpose(input, [0, 2, 3, 1]) : input) as tf.Tensor4D;
    let y: tf.Tensor = tf.conv2d(
      x,
      conv.kernel.read() as tf.Tensor4D,
      conv.strides as [number, number],
      conv.padding,
      'NHWC',
      conv.dilationRate as [number, number],
    );
    if (conv.bias != null) y = tf.add(y, conv.bias.read());
    if (channelsFirst) y = tf.transpose(y, [0, 3, 1, 2]);
    return conv.activation.apply(y);
  });
}
