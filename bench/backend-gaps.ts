/**
 * Times input gradients in the backend-gap scope on tfjs's cpu and wasm backends:
 * 1. a MobileNetV2-like stack at batch 1, with the scope skipping the filter gradients of constant
 *    filters (the default inside attributions) and with exact filter gradients; on cpu also tfjs
 *    without any scope;
 * 2. the real MobileNetV2 (nsfwjs, 224×224, batch 1): one input gradient in the synchronous scope,
 *    with and without a {@link KernelCache}, against one forward pass (`predict`): the gradient /
 *    predict ratio the engine aims to keep under 3 on wasm and 2.5 on cpu. Measured round-robin, wall
 *    time and CPU time (on a shared machine the CPU-time ratio is the one to read).
 *
 *   npx tsx bench/backend-gaps.ts [inputSize=96] [repeats=3]
 *
 * The stack: a 3×3 stride-2 stem, then inverted-residual blocks (1×1 expansion → BN → ReLU6 →
 * 3×3 depthwise → BN → ReLU6 → 1×1 linear projection → BN, residual add where shapes allow), global
 * average pooling and a dense classifier. Its 1×1 convolutions have linear activations, so tfjs runs
 * them through the fused convolution whose gradient also computes the filter gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { KernelCache, withBackendGapFixesSync } from '../src/core/backend-gaps';
import { loadMobileNetV2 } from '../examples/models/pretrained';
import { interleavedMedians } from './timing';

const inputSize = Number(process.argv[2] ?? 96);
const repeats = Number(process.argv[3] ?? 3);

/** [expansion, output channels, repeats, first stride] per stage, MobileNetV2's first stages. */
const STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 2, 2],
];

function mobileNetV2Like(): tfl.LayersModel {
  const input = tfl.input({ shape: [inputSize, inputSize, 3] });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(x) as tfl.SymbolicTensor;
  const bnRelu6 = (x: tfl.SymbolicTensor) =>
    apply(tfl.layers.reLU({ maxValue: 6 }), apply(tfl.layers.batchNormalization(), x));
  const conv = (filters: number, kernelSize: number, strides = 1) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false });
  let x = bnRelu6(apply(conv(32, 3, 2), input));
  let channels = 32;
  for (const [expansion, filters, count, firstStride] of STAGES) {
    for (let i = 0; i < count; i++) {
      const stride = i === 0 ? firstStride : 1;
      let y = x;
      if (expansion !== 1) {
        y = bnRelu6(apply(conv(channels * expansion, 1), y));
      }
      const depthwise = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false });
      y = bnRelu6(apply(depthwise, y));
      y = apply(tfl.layers.batchNormalization(), apply(conv(filters, 1), y));
      x = stride === 1 && channels === filters ? apply(tfl.layers.add(), [x, y]) : y;
      channels = filters;
    }
  }
  const output = apply(tfl.layers.dense({ units: 10 }), apply(tfl.layers.globalAveragePooling2d({}), x));
  return tfl.model({ inputs: input, outputs: output });
}

/** Median wall time (ms) of `repeats` input gradients after one warm-up, and the gradient's values. */
async function timeInputGradient(
  model: tfl.LayersModel,
  wrap: (run: () => tf.Tensor) => tf.Tensor,
): Promise<{ ms: number; gradient: Float32Array }> {
  const x = tf.randomUniform([1, inputSize, inputSize, 3], -1, 1, 'float32', 1);
  const score = (input: tf.Tensor) => tf.sum(tf.slice(model.apply(input) as tf.Tensor, [0, 3], [1, 1])) as tf.Scalar;
  const once = async () => {
    const start = performance.now();
    const g = wrap(() => tf.grad(score)(x));
    const values = (await g.data()) as Float32Array;
    g.dispose();
    return { ms: performance.now() - start, values };
  };
  const { values: gradient } = await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push((await once()).ms);
  x.dispose();
  return { ms: times.sort((a, b) => a - b)[Math.floor(times.length / 2)], gradient };
}

const relativeL1 = (a: Float32Array, b: Float32Array) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += Math.abs(a[i] - b[i]);
    den += Math.abs(b[i]);
  }
  return num / den;
};

for (const backendName of ['cpu', 'wasm']) {
  await tf.setBackend(backendName);
  await tf.ready();
  const model = mobileNetV2Like();
  const exact = await timeInputGradient(model, (run) => withBackendGapFixesSync(run, { zeroFilterGradients: false }));
  const zeros = await timeInputGradient(model, (run) => withBackendGapFixesSync(run));
  // tfjs 4.22 alone cannot differentiate this model on wasm (no DepthwiseConv2dNativeBackpropInput).
  const plain = backendName === 'cpu' ? await timeInputGradient(model, (run) => run()) : undefined;
  console.log(
    `${backendName}: d/dx at batch 1, ${inputSize}×${inputSize} input, ` +
      `${model.countParams()} parameters, median of ${repeats}\n` +
      (plain === undefined ? '' : `  tfjs without the scope:              ${plain.ms.toFixed(0)} ms\n`) +
      `  scope, exact filter gradients:       ${exact.ms.toFixed(0)} ms\n` +
      `  scope, zero filter gradients:        ${zeros.ms.toFixed(0)} ms\n` +
      `  speed-up from zero filter gradients: ${(exact.ms / zeros.ms).toFixed(1)}×\n` +
      `  relative L1 between the two input gradients: ${relativeL1(zeros.gradient, exact.gradient).toExponential(1)}`,
  );
  model.dispose();
}

/** Input gradient of the real MobileNetV2 against its forward pass, at batch 1. */
async function mobileNetV2Ratios(backendName: string): Promise<void> {
  const model = await loadMobileNetV2();
  const image = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2);
  const score = (input: tf.Tensor) => tf.sum(tf.slice(model.predict(input) as tf.Tensor, [0, 2], [1, 1])) as tf.Scalar;
  const cache = new KernelCache();
  const times = await interleavedMedians(
    {
      predict: () => model.predict(image) as tf.Tensor,
      'gradient, KernelCache': () => withBackendGapFixesSync(() => tf.grad(score)(image), { cache }),
      'gradient, no cache': () => withBackendGapFixesSync(() => tf.grad(score)(image)),
    },
    repeats,
  );
  const { predict } = times;
  console.log(`${backendName}: MobileNetV2 224×224, batch 1, median of ${repeats} (ratio to predict: wall / CPU time)`);
  for (const [name, { wallMs, cpuMs }] of Object.entries(times)) {
    const ratio = name === 'predict' ? '' : `   ${(wallMs / predict.wallMs).toFixed(2)} / ${(cpuMs / predict.cpuMs).toFixed(2)}`;
    console.log(`  ${name.padEnd(24)} ${wallMs.toFixed(0).padStart(6)} ms wall ${cpuMs.toFixed(0).padStart(6)} ms CPU${ratio}`);
  }
  cache.dispose();
  image.dispose();
  model.dispose();
}

for (const backendName of ['cpu', 'wasm']) {
  await tf.setBackend(backendName);
  await tf.ready();
  await mobileNetV2Ratios(backendName);
}
