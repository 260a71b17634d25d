/**
 * The memory suite (`npm run test:memory`, node-wasm, not part of `npm test`: it takes minutes): every
 * method with its DEFAULT options on a real 224×224 MobileNetV2 on tfjs-backend-wasm, whose heap is a
 * 32-bit WebAssembly memory. With the 0.1 engine's fixed default batch of 32, integratedGradients,
 * smoothGrad and smoothTaylor on one image, saliency on 16 images and lrp on 8 ended in
 * `Aborted()` / "memory access out of bounds" and left the backend dead for the process. With
 * `batchSize: 'auto'` each must finish, leak nothing, and keep live tensor memory bounded by the
 * backend's chunk budget (sampled at every progress report).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integratedGradients, lrp, saliency, smoothGrad, smoothTaylor } from '../../src/index';
import { memoryBudget } from '../../src/core/memory-budget';
import { loadMobileNetV2 } from '../../examples/models/pretrained';

describe('default options on MobileNetV2 224² (wasm)', () => {
  let model: tfl.LayersModel;
  let one: tf.Tensor;
  let eight: tf.Tensor;
  let batch: tf.Tensor;
  beforeAll(async () => {
    expect(tf.getBackend()).toBe('wasm');
    model = await loadMobileNetV2();
    batch = tf.randomUniform([16, 224, 224, 3], 0, 1, 'float32', 1);
    one = tf.slice(batch, 0, 1);
    eight = tf.slice(batch, 0, 8);
  });
  afterAll(() => {
    [one, eight, batch].forEach((t) => t.dispose());
    model.dispose();
  });

  /** Runs `run`, samples live tensor bytes at every progress report, checks the result and the bound. */
  async function bounded(run: (onProgress: (done: number, total: number) => void) => Promise<tf.Tensor>): Promise<void> {
    const before = tf.memory();
    let peak = 0;
    const result = await run(() => (peak = Math.max(peak, tf.memory().numBytes - before.numBytes)));
    expect(Array.from(await result.data()).every(Number.isFinite)).toBe(true);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    // Between chunks only the running sums and the call's inputs are alive: far below one chunk's budget.
    expect(peak).toBeLessThan(memoryBudget());
  }

  it('integratedGradients, 50 steps, one image', () => bounded((onProgress) => integratedGradients(model, one, { target: 2, onProgress })), 600_000);
  it('smoothGrad, 20 samples, one image', () => bounded((onProgress) => smoothGrad(model, one, { target: 2, onProgress })), 600_000);
  it('smoothTaylor, 150 roots, one image', () => bounded((onProgress) => smoothTaylor(model, one, { target: 2, onProgress })), 900_000);
  it('saliency, 16 images', () => bounded((onProgress) => saliency(model, batch, { target: 2, onProgress })), 600_000);
  it('lrp (epsilon-plus-flat), 8 images', () => bounded((onProgress) => lrp(model, eight, { target: 2, onProgress })), 600_000);
});
