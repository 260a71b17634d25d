import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { EdgeFilterStem, FILTER_KERNELS, FILTER_NAMES, type FilterSpec, layers } from '../../src/index';
import { expectClose, expectNoLeak, finiteDifferenceGradient, seededTensor } from '../helpers';

/** Plain-JS 'same' cross-correlation of every colour with every filter, colour-major (TensorFlow's padding). */
function referenceStem(x: Float32Array, [n, h, w, c]: number[], bank: number[][][]): Float32Array {
  const f = bank.length;
  const out = new Float32Array(n * h * w * c * f);
  for (let e = 0; e < n; e++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ch = 0; ch < c; ch++)
          bank.forEach((k, fi) => {
            const top = Math.floor((k.length - 1) / 2);
            const left = Math.floor((k[0].length - 1) / 2);
            let acc = 0;
            k.forEach((row, a) =>
              row.forEach((v, b) => {
                const y = i + a - top;
                const xx = j + b - left;
                if (y >= 0 && y < h && xx >= 0 && xx < w) acc += v * x[((e * h + y) * w + xx) * c + ch];
              }),
            );
            out[((e * h + i) * w + j) * c * f + ch * f + fi] = acc;
          });
  return out;
}

const kernelsOf = (specs: FilterSpec[]): number[][][] =>
  specs.map((s) => (typeof s === 'string' ? FILTER_KERNELS[s].map((r) => [...r]) : s));

describe('EdgeFilterStem', () => {
  it('applies every named filter and custom kernels depthwise, colour-major, with same padding', async () => {
    const filters: FilterSpec[] = [...FILTER_NAMES, [[0.5, -1, 2], [1, 0, -3]], [[1, 2, 3, 4]]];
    const shape = [2, 5, 6, 3];
    const x = seededTensor(shape, 3);
    const stem = layers.edgeFilterStem({ filters });
    const y = (await expectNoLeak(() => stem.apply(x))) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 6, 3 * filters.length]);
    await expectClose(y, referenceStem(await x.data() as Float32Array, shape, kernelsOf(filters)), 1e-5);
    expect(stem.filterLabels.slice(-2)).toEqual([`custom-${FILTER_NAMES.length}`, `custom-${FILTER_NAMES.length + 1}`]);
    tf.dispose([x, y]);
  });

  it('defaults to identity, Sobel, Prewitt and Laplacian, holds no weights and is not trainable', async () => {
    const model = tfl.sequential({ layers: [layers.edgeFilterStem({ inputShape: [4, 4, 3] })] });
    const stem = model.layers[0] as EdgeFilterStem;
    expect(stem.filterLabels).toEqual(['identity', 'sobel-x', 'sobel-y', 'prewitt-x', 'prewitt-y', 'laplacian']);
    expect(model.outputs[0].shape).toEqual([null, 4, 4, 18]);
    expect(stem.trainable).toBe(false);
    expect(stem.getWeights()).toHaveLength(0);
    expect(model.countParams()).toBe(0);
    const kernel = await expectNoLeak(() => stem.kernel());
    expect(kernel.shape).toEqual([3, 3, 3, 18]);
    // Block-diagonal: input colour 1 feeds only output channels 6..11.
    const k = await kernel.data();
    for (let tap = 0; tap < 9; tap++)
      for (let o = 0; o < 18; o++) expect(k[(tap * 3 + 1) * 18 + o] !== 0 && (o < 6 || o >= 12)).toBe(false);
    kernel.dispose();
    model.dispose();
  });

  it('has the input gradient of its linear map (finite differences)', async () => {
    const stem = new EdgeFilterStem({ filters: ['sobel-x', 'roberts-y', 'laplacian'] });
    const x = seededTensor([1, 4, 5, 2], 5);
    const weights = seededTensor([1, 4, 5, 6], 6);
    const f = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(stem.apply(input) as tf.Tensor, weights));
    const grad = await expectNoLeak(() => tf.grad(f)(x));
    await expectClose(grad, await finiteDifferenceGradient(f, x, 0.5), 1e-3);
    tf.dispose([x, weights, grad]);
  });

  it('trains inside Sequential and functional models with fit', async () => {
    const xs = seededTensor([8, 6, 6, 2], 7);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0, 1, 0], 'int32'), 2);
    const sequential = tfl.sequential({
      layers: [
        layers.edgeFilterStem({ inputShape: [6, 6, 2], filters: ['identity', 'sobel-y'] }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: 'zeros' }),
      ],
    });
    const input = tfl.input({ shape: [6, 6, 2] });
    const stemmed = new EdgeFilterStem({ filters: ['prewitt-x'] }).apply(input) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(tfl.layers.flatten().apply(stemmed));
    const functional = tfl.model({ inputs: input, outputs: logits as tfl.SymbolicTensor });
    for (const model of [sequential, functional]) {
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const history = await model.fit(xs, ys, { epochs: 3, batchSize: 4, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss[2]).toBeLessThan(loss[0]);
      const before = tf.memory().numTensors;
      await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 });
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
    tf.dispose([xs, ys]);
  });

  it('round-trips through an IOHandler with identical outputs', async () => {
    const model = tfl.sequential({
      layers: [
        layers.edgeFilterStem({ inputShape: [5, 5, 3], filters: ['scharr-y', [[1, -1], [2, 0.5]], 'roberts-x'] }),
        tfl.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }),
      ],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const x = seededTensor([2, 5, 5, 3], 8);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    expect((loaded.layers[0] as EdgeFilterStem).filters).toEqual(['scharr-y', [[1, -1], [2, 0.5]], 'roberts-x']);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('rejects unknown filter names, bad kernels and inputs of the wrong rank, naming the problem', () => {
    expect(() => layers.edgeFilterStem({ filters: ['sobel-x', 'sobel-z' as never] })).toThrow(
      /filters\[1\]: unknown filter name 'sobel-z'; expected one of identity, sobel-x/,
    );
    expect(() => layers.edgeFilterStem({ filters: 'sobel-x' as never })).toThrow(/config\.filters: expected a non-empty array of filter names or kernels, got "sobel-x"/);
    expect(() => layers.edgeFilterStem({ filters: [] })).toThrow(/config\.filters: expected a non-empty array/);
    expect(() => layers.edgeFilterStem({ filters: [[[1, 2], [3]]] })).toThrow(/config\.filters\[0\]: expected .* rectangular/);
    expect(() => layers.edgeFilterStem({ filters: [[[0, 0]]] })).toThrow(/config\.filters\[0\]: kernel must not be all zero/);
    expect(() => layers.edgeFilterStem({ filters: [[[1, NaN]]] })).toThrow(/config\.filters\[0\]: kernel entries must be finite/);
    expect(() => tfl.sequential({ layers: [layers.edgeFilterStem({ inputShape: [4, 3] })] })).toThrow(
      /EdgeFilterStem '.*': expected input of rank 4 \[batch, height, width, channels\], got rank 3/,
    );
    const stem = layers.edgeFilterStem();
    const [x3, x4, wrongChannels] = [tf.zeros([2, 4, 3]), tf.zeros([1, 4, 4, 2]), tf.zeros([1, 4, 4, 3])];
    const before = tf.memory().numTensors;
    expect(() => stem.apply(x3)).toThrow(/expected input of rank 4 .* got rank 3 \(shape \[2, 4, 3\]\)/);
    tf.dispose(stem.apply(x4) as tf.Tensor);
    expect(() => stem.apply(wrongChannels)).toThrow(/built for 2 input channels, got 3/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new EdgeFilterStem().kernel()).toThrow(/kernel\(\) needs the layer to be built/);
    tf.dispose([x3, x4, wrongChannels]);
  });
});
