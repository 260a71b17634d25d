/**
 * Real pretrained models shipped in npm packages, loaded offline through fs-based IOHandlers, explained
 * on cpu and wasm in one process: a Keras MobileNetV2 LayersModel (depthwise convs, BatchNorm folded by
 * the converter, relu6, linear 1×1 convs) and a converted GraphModel (fused convs, depthwise, max-pool).
 * Runs once, in the node-cpu project.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { integratedGradients, integratedGradientsDelta, saliency } from '../../src/index';
import { loadEmotionGraphModel, loadMobileNetV2 } from '../../examples/models/pretrained';
import { expectNoLeak, relativeL1 } from '../helpers';

const onCpuProject = process.env.GLASSBOX_BACKEND === 'cpu';
/**
 * Each test takes ~20 s alone on the 2-core machine, but 100 s while the machine is saturated (other
 * test workers, benches): a limit well above that, so that load never fails a correct run.
 */
const REAL_MODEL_TIMEOUT = 400_000;

/** Runs `fn` on `backend` and returns the numbers of its result. */
async function on(backend: string, fn: () => Promise<tf.Tensor>): Promise<Float32Array> {
  await tf.setBackend(backend);
  const result = await expectNoLeak(fn);
  const values = (await result.data()) as Float32Array;
  result.dispose();
  return values;
}

/** (f_c(x + h d) − f_c(x − h d)) / 2h: the derivative along d, for comparison with ⟨∇f_c, d⟩. */
async function directionalDerivative(predict: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, d: tf.Tensor, target: number, h: number): Promise<number> {
  const value = tf.tidy(() => {
    const up = tf.slice(predict(tf.add(x, tf.mul(d, h))), [0, target], [1, 1]);
    const down = tf.slice(predict(tf.sub(x, tf.mul(d, h))), [0, target], [1, 1]);
    return tf.div(tf.sub(up, down), 2 * h);
  });
  const result = (await value.data())[0];
  value.dispose();
  return result;
}

describe.runIf(onCpuProject)('pretrained models from npm packages', () => {
  afterAll(() => tf.setBackend('cpu'));

  it('MobileNetV2 (LayersModel): saliency is the true gradient and identical on cpu and wasm', async () => {
    await tf.setBackend('cpu');
    const model = await loadMobileNetV2();
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 5);
    const cpu = await on('cpu', () => saliency(model, x, { target: 2, abs: false }));
    const wasm = await on('wasm', () => saliency(model, x, { target: 2, abs: false }));
    expect(relativeL1(wasm, cpu)).toBeLessThan(1e-3);
    // Derivative along a random direction by central differences (deterministic on cpu; h small enough
    // to cross few relu6 kinks). tfjs's own unpatched gradient takes ~45 s here, hence no direct check.
    await tf.setBackend('cpu');
    const direction = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 6);
    const d = await direction.data();
    const projected = cpu.reduce((s, g, i) => s + g * d[i], 0);
    const numeric = await directionalDerivative((v) => model.predict(v) as tf.Tensor, x, direction, 2, 1e-4);
    expect(Math.abs(projected - numeric) / Math.abs(numeric)).toBeLessThan(0.03);
    [x, direction].forEach((t) => t.dispose());
    model.dispose();
  }, REAL_MODEL_TIMEOUT);

  it('emotion GraphModel: saliency and IG work through fused and depthwise convs on cpu and wasm', async () => {
    await tf.setBackend('cpu');
    const model = await loadEmotionGraphModel();
    const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 7);
    const direction = tf.randomUniform([1, 64, 64, 1], -1, 1, 'float32', 8);
    const cpu = await on('cpu', () => saliency(model, x, { target: 4, abs: false }));
    const wasm = await on('wasm', () => saliency(model, x, { target: 4, abs: false }));
    expect(relativeL1(wasm, cpu)).toBeLessThan(1e-3);
    // Reference: tfjs's own gradient on cpu, with none of the library's kernel fixes installed.
    await tf.setBackend('cpu');
    const first = tf.slice(x, 0, 1);
    const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.predict(v) as tf.Tensor, [0, 4], [1, 1])))(first);
    expect(relativeL1(cpu.subarray(0, 64 * 64), await reference.data())).toBeLessThan(1e-5);
    reference.dispose();
    const d = await direction.data();
    const projected = cpu.subarray(0, 64 * 64).reduce((s, g, i) => s + g * d[i], 0);
    const numeric = await directionalDerivative((v) => model.predict(v) as tf.Tensor, first, direction, 4, 1e-4);
    expect(Math.abs(projected - numeric) / Math.abs(numeric)).toBeLessThan(0.05);
    // Completeness of IG on a real network (softmax output), on wasm for speed: δ shrinks with the
    // steps, to ~1% of f(x) − f(b).
    await tf.setBackend('wasm');
    const deltas: number[] = [];
    for (const steps of [16, 128]) {
      const ig = await integratedGradients(model, first, { target: 4, steps, batchSize: 64 });
      const delta = await integratedGradientsDelta(model, first, ig, { target: 4 });
      deltas.push(Math.abs((await delta.data())[0]));
      [ig, delta].forEach((t) => t.dispose());
    }
    const scores = tf.tidy(() => tf.sub(tf.slice(model.predict(first) as tf.Tensor, [0, 4], [1, 1]), tf.slice(model.predict(tf.zerosLike(first)) as tf.Tensor, [0, 4], [1, 1])));
    expect(deltas[1]).toBeLessThan(deltas[0] / 5);
    expect(deltas[1]).toBeLessThan(0.02 * Math.abs((await scores.data())[0]));
    [x, direction, first, scores].forEach((t) => t.dispose());
    model.dispose();
  }, REAL_MODEL_TIMEOUT);
});
