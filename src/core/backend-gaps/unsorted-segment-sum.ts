import * as tf from '@tensorflow/tfjs-core';
import { opKernel } from './op-kernel';

/**
 * `UnsortedSegmentSum` for a backend that lacks it (tfjs-backend-wasm 4.22; `tf.gather`'s gradient,
 * e.g. through an embedding layer, needs it):
 * `out[s, …] = Σ_{i : segmentIds[i] = s} x[i, …]` for `0 ≤ s < numSegments`, ids outside that range
 * dropped (as tfjs's cpu backend). Computed as a scatter-add (`tf.scatterND` sums duplicate indices)
 * into one extra row that collects the out-of-range ids and is then cut off.
 */
export function unsortedSegmentSumKernel(backendName: string): tf.KernelConfig {
  return opKernel(tf.UnsortedSegmentSum, backendName, ({ x, segmentIds }, attrs) => {
    const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
    const rows = segmentIds.size;
    const rowShape = x.shape.slice(segmentIds.rank);
    const ids = tf.reshape(segmentIds, [rows]);
    const inRange = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    const target = tf.where(inRange, ids, tf.fill([rows], numSegments, 'int32'));
    const summed = tf.scatterND(tf.reshape(target, [rows, 1]), tf.reshape(x, [rows, ...rowShape]), [
      numSegments + 1,
      ...rowShape,
    ]);
    return tf.slice(summed, 0, [numSegments, ...rowShape]);
  });
}
