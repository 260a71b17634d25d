import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import { depthwiseInfo } from './depthwise-backprop-input';
import { padSpatial, windowTap } from './strided-windows';
import { transposedMatMul } from '../transposed-matmul';

/** The input padded so that every filter tap of a convolution can read all output positions. */
function paddedForTaps(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { top, left } = info.padInfo;
  const neededHeight = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const neededWidth = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  return padSpatial(x, {
    top,
    bottom: Math.max(info.padInfo.bottom, neededHeight - top - info.inHeight),
    left,
    right: Math.max(info.padInfo.right, neededWidth - left - info.inWidth),
  });
}

/** Applies `perTap` to the input each filter tap reads (row-major over the taps) and stacks the results. */
function stackTaps(
  x: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  perTap: (xTap: tf.Tensor4D) => tf.Tensor,
): tf.Tensor {
  const padded = paddedForTaps(x, info);
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const taps: tf.Tensor[] = [];
  for (let row = 0; row < info.filterHeight; row++) {
    for (let col = 0; col < info.filterWidth; col++) {
      const rowOffset = row * info.dilationHeight;
      const colOffset = col * info.dilationWidth;
      taps.push(perTap(windowTap(padded, rowOffset, colOffset, info.outHeight, info.outWidth, strides)));
    }
  }
  return tf.stack(taps);
}

/**
 * The filter gradient of an NHWC convolution (any strides, dilations and padding):
 * `dW[k, l, i, o] = Σ_{n, r, s} x[n, r·sh − p_top + k·dh, s·sw − p_left + l·dw, i] · dy[n, r, s, o]`, one
 * matrix product `X_{kl}ᵀ · DY` per filter tap.
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const dyMatrix = tf.reshape(dy, [positions, info.outChannels]);
  const taps = stackTaps(x, info, (xTap) =>
    transposedMatMul(tf.reshape(xTap, [positions, info.inChannels]), dyMatrix),
  );
  return tf.reshape(taps, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
}

/**
 * The filter gradient of a depthwise convolution (any strides, dilations and padding):
 * `dW[k, l, c, m] = Σ_{n, r, s} x[n, r·sh − p_top + k·dh, s·sw − p_left + l·dw, c] · dy[n, r, s, c·M + m]`.
 */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const channels = info.inChannels;
  const multiplier = info.outChannels / channels;
  const dyPerChannel = tf.reshape(dy, [info.batchSize, info.outHeight, info.outWidth, channels, multiplier]);
  const taps = stackTaps(x, info, (xTap) => tf.sum(tf.mul(tf.expandDims(xTap, 4), dyPerChannel), [0, 1, 2]));
  return tf.reshape(taps, [info.filterHeight, info.filterWidth, channels, multiplier]);
}

/**
 * `Conv2DBackpropFilter` for a backend that lacks it (tfjs-backend-wasm 4.22), computed with
 * {@link conv2dFilterGradient}. NCHW inputs are transposed to NHWC first.
 */
export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.Conv2DBackpropFilter, backendName, (inputs, attrs) => {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const channelsFirst = dataFormat === 'NCHW';
    const x = (channelsFirst ? tf.transpose(inputs.x, [0, 2, 3, 1]) : inputs.x) as tf.Tensor4D;
    const dy = channelsFirst ? tf.transpose(inputs.dy, [0, 2, 3, 1]) : inputs.dy;
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    return conv2dFilterGradient(x, dy, info);
  });
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` for a backend that lacks it (tfjs-backend-wasm 4.22), computed
 * with {@link depthwiseFilterGradient}.
 */
export function depthwiseBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.DepthwiseConv2dNativeBackpropFilter, backendName, ({ x, dy }, attrs) => {
    const { filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    return depthwiseFilterGradient(x as tf.Tensor4D, dy, depthwiseInfo(x.shape, filterShape, attrs));
  });
}
