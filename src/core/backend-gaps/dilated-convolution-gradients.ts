import * as tf from '@tensorflow/tfjs-core';
import { conv2dInputGradient } from './conv2d-backprop-input';
import { depthwiseInfo, depthwiseInputGradient } from './depthwise-backprop-input';
import { conv2dFilterGradient, depthwiseFilterGradient } from './filter-gradients';
import type { GradientDefinition } from './gradient-overrides';

/**
 * Gradients of dilated (atrous) convolutions. tfjs 4.22's gradients of `Conv2D` and
 * `DepthwiseConv2dNative` assert that the dilation is 1 ("dilation rates greater than 1 are not yet
 * supported in gradients"), and its backprop kernels have no dilation attribute at all. With dilation
 * `d` (tfjs allows it only with stride 1) the input gradient is the stride-1 correlation of the padded
 * `dy` with the flipped filter dilated by `d`, and the filter gradient sums `x`, read at the dilated
 * taps, times `dy` (see {@link conv2dInputGradient}, {@link conv2dFilterGradient} and their depthwise
 * counterparts). Undilated convolutions keep tfjs's gradients.
 *
 * tfjs's fused convolution (`tf.fused.conv2d`, every tfjs-layers `conv2d` whose activation is linear or
 * not fusable) differentiates through its own closure, which asserts dilation 1 and which no registry
 * entry reaches: run such layers unfused ({@link unfusedConvolutionCall}).
 */
export function dilatedConv2dGradient(original: tf.GradConfig | undefined): GradientDefinition | undefined {
  if (original === undefined) return undefined;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
      if (tf.backend_util.tupleValuesAreOne(dilations) || dataFormat === 'NCHW') return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode);
      return {
        x: () => conv2dInputGradient(dy as tf.Tensor4D, filter, info),
        filter: () => conv2dFilterGradient(x, dy as tf.Tensor, info),
      };
    },
  };
}

/** `DepthwiseConv2dNative`'s gradient for every dilation (see {@link dilatedConv2dGradient}). */
export function dilatedDepthwiseGradient(original: tf.GradConfig | undefined): GradientDefinition | undefined {
  if (original === undefined) return undefined;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const { dilations } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
      if (dilations == null || tf.backend_util.tupleValuesAreOne(dilations)) return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const info = depthwiseInfo(x.shape, filter.shape, attrs);
      return {
        x: () => depthwiseInputGradient(dy as tf.Tensor4D, filter, info),
        filter: () => depthwiseFilterGradient(x, dy as tf.Tensor, info),
      };
    },
  };
}
