import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe('test matrix', () => {
  it('runs on the backend its project names, with gradients registered', async () => {
    expect(['cpu', 'wasm', 'webgl', 'webgpu']).toContain(tf.getBackend());
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3]));
    expect(Array.from(await g.data())).toEqual([2, 4, 6]);
    g.dispose();
  });
});
