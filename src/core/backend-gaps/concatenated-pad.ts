import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';
import type { KernelFix } from './registry-slots';

/**
 * `PadV2` as concatenations with constant blocks, one axis at a time, for tfjs-backend-cpu 4.22, whose
 * kernel computes the coordinates of every element through index arrays: zero-padding a 112×112×96
 * activation by one row and column takes about 90 ns per element there, the concatenations (contiguous
 * copies) about 5. The same values; other backends keep their own kernel.
 */
export const concatenatedPad: KernelFix = {
  kernelName: tf.PadV2,
  priority: 0,
  install: (original, backendName) => {
    if (original === undefined || backendName !== 'cpu') return undefined;
    return {
      config: opKernel(tf.PadV2, backendName, ({ x }, attrs) => {
        const { paddings, constantValue } = attrs as unknown as tf.PadV2Attrs;
        let padded = x;
        paddings.forEach(([before, after], axis) => {
          const block = (size: number) => tf.fill(padded.shape.map((d, i) => (i === axis ? size : d)), constantValue, x.dtype);
          if (before > 0 || after > 0) {
            padded = tf.concat([...(before > 0 ? [block(before)] : []), padded, ...(after > 0 ? [block(after)] : [])], axis);
          }
        });
        // The kernel's output is a new tensor even without padding.
        return padded === x ? tf.clone(x) : padded;
      }),
    };
  },
};
