import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { conceptLoss, layers, maskedGroupCrossEntropy, SemanticBottleneck, type SemanticBottleneckArgs } from '../../src/index';
import { expectClose, expectNoLeak, finiteDifferenceGradient, seededTensor } from '../helpers/index';

const groups = [
  { name: 'colour', size: 2 },
  { name: 'part', size: 3 },
];

/** A built bottleneck on C = 4 channels with deterministic weights. */
function bottleneck(args: Partial<SemanticBottleneckArgs> = {}): SemanticBottleneck {
  const layer = layers.semanticBottleneck({ concepts: groups, ...args });
  tf.dispose(layer.apply(tf.zeros([1, 4])) as tf.Tensor);
  const weights = layer.getWeights().map((w, i) =>
    tf.tidy(() => (/variance/.test(layer.weights[i].originalName) ? tf.add(tf.abs(seededTensor(w.shape, 70 + i)), 0.5) : seededTensor(w.shape, 70 + i, 1.5))),
  );
  layer.setWeights(weights);
  tf.dispose(weights);
  return layer;
}

/** Plain-JS bottleneck: logits, optional batch norm with given statistics, activation per row. */
function reference(
  rows: number[][],
  w: Float32Array[],
  sizes: number[],
  activation: string,
  temperature: number,
  norm?: { mean: number[]; variance: number[]; gamma: Float32Array; beta: Float32Array },
): number[][] {
  const [kernel] = w;
  const k = sizes.reduce((a, b) => a + b, 0);
  return rows.map((x) => {
    let logits = Array.from({ length: k }, (_, j) => x.reduce((s, v, i) => s + v * kernel[i * k + j], 0));
    if (norm) logits = logits.map((l, j) => ((l - norm.mean[j]) / Math.sqrt(norm.variance[j] + 1e-3)) * norm.gamma[j] + norm.beta[j]);
    else logits = logits.map((l, j) => l + w[1][j]);
    logits = logits.map((l) => l / temperature);
    if (activation === 'sigmoid') return logits.map((l) => 1 / (1 + Math.exp(-l)));
    const spans = activation === 'softmax' ? [k] : sizes;
    const out: number[] = [];
    let start = 0;
    for (const size of spans) {
      const part = logits.slice(start, start + size);
      const max = Math.max(...part);
      const e = part.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      out.push(...e.map((v) => v / sum));
      start += size;
    }
    return out;
  });
}

async function rowsOf(x: tf.Tensor): Promise<number[][]> {
  return (await tf.tidy(() => tf.reshape(x, [-1, x.shape[x.rank - 1]])).array()) as number[][];
}

describe('SemanticBottleneck', () => {
  for (const [activation, temperature] of [['group-softmax', 1], ['softmax', 0.5], ['sigmoid', 2]] as const) {
    it(`matches a plain-JS 1×1 convolution + ${activation} (τ = ${temperature}) on [N, H, W, C] and [N, C]`, async () => {
      const layer = bottleneck({ activation, temperature });
      const w = await Promise.all(layer.getWeights().map((t) => t.data() as Promise<Float32Array>));
      for (const shape of [[2, 3, 3, 4], [5, 4]]) {
        const x = seededTensor(shape, 3, 2);
        const y = layer.apply(x) as tf.Tensor;
        expect(y.shape).toEqual([...shape.slice(0, -1), 5]);
        await expectClose(y, reference(await rowsOf(x), w, [2, 3], activation, temperature).flat(), 1e-5);
        tf.dispose([x, y]);
      }
      layer.dispose();
    });
  }

  it('batch-normalises with batch statistics in training (updating the moving averages) and moving ones otherwise', async () => {
    const layer = bottleneck({ batchNorm: true });
    const x = seededTensor([3, 2, 2, 4], 5, 2);
    const rows = await rowsOf(x);
    const [kernel, gamma, beta, movingMean, movingVariance] = await Promise.all(layer.getWeights().map((t) => t.data() as Promise<Float32Array>));
    const inference = layer.apply(x) as tf.Tensor;
    const stats = { mean: Array.from(movingMean), variance: Array.from(movingVariance), gamma, beta };
    await expectClose(inference, reference(rows, [kernel], [2, 3], 'group-softmax', 1, stats).flat(), 1e-5);

    const logits = rows.map((r) => Array.from({ length: 5 }, (_, j) => r.reduce((s, v, i) => s + v * kernel[i * 5 + j], 0)));
    const mean = [0, 1, 2, 3, 4].map((j) => logits.reduce((s, l) => s + l[j], 0) / logits.length);
    const variance = [0, 1, 2, 3, 4].map((j) => logits.reduce((s, l) => s + (l[j] - mean[j]) ** 2, 0) / logits.length);
    const training = layer.apply(x, { training: true }) as tf.Tensor;
    await expectClose(training, reference(rows, [kernel], [2, 3], 'group-softmax', 1, { mean, variance, gamma, beta }).flat(), 1e-4);
    const [, , , newMean, newVariance] = layer.getWeights();
    await expectClose(newMean, mean.map((m, j) => 0.99 * movingMean[j] + 0.01 * m), 1e-5);
    await expectClose(newVariance, variance.map((v, j) => 0.99 * movingVariance[j] + 0.01 * v), 1e-5);
    tf.dispose([x, inference, training]);
    layer.dispose();
  });

  it('gives each concept group a distribution and names its channels', async () => {
    const layer = bottleneck();
    const x = seededTensor([2, 3, 3, 4], 8, 3);
    const sums = tf.tidy(() => tf.stack(tf.split(layer.apply(x) as tf.Tensor, [2, 3], -1).map((p) => tf.sum(p, -1))));
    await expectClose(sums, tf.ones(sums.shape), 1e-6);
    expect(layer.units).toBe(5);
    expect(layer.channelNames).toEqual(['colour/0', 'colour/1', 'part/0', 'part/1', 'part/2']);
    expect(layers.semanticBottleneck({ concepts: 3 }).channelNames).toEqual(['concepts/0', 'concepts/1', 'concepts/2']);
    tf.dispose([x, sums]);
    layer.dispose();
  });

  it('has input gradients equal to finite differences', async () => {
    const layer = bottleneck({ temperature: 0.7 });
    const x = seededTensor([1, 2, 2, 4], 9, 1);
    const weights = seededTensor([1, 2, 2, 5], 10, 1);
    const f = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, weights)) as tf.Scalar;
    const analytic = tf.grad(f)(x);
    await expectClose(analytic, await finiteDifferenceGradient(f, x, 1e-2), 5e-3);
    tf.dispose([x, weights, analytic]);
    layer.dispose();
  });

  it('trains the concepts with fit next to the task output of a functional model, and in a custom loop', async () => {
    const x = seededTensor([16, 3, 3, 3], 11, 1);
    const sb = layers.semanticBottleneck({ concepts: groups, batchNorm: true });
    const input = tfl.input({ shape: [3, 3, 3] });
    const concepts = sb.apply(tfl.layers.dense({ units: 6, activation: 'relu' }).apply(input)) as tfl.SymbolicTensor;
    const task = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(tfl.layers.flatten().apply(concepts)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: [task, concepts] });
    // Concept labels from the input: colour = sign of channel 0, part = argmax over channels; a third
    // of the pixels carries no part label.
    const [taskLabels, conceptLabels] = tf.tidy(() => {
      const colour = tf.oneHot(tf.reshape(tf.cast(tf.greater(tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, 1]), 0), 'int32'), [16, 3, 3]), 2);
      const labelled = tf.reshape(tf.cast(tf.notEqual(tf.mod(tf.range(0, 16 * 9), 3), 0), 'float32'), [16, 3, 3, 1]);
      const part = tf.mul(tf.cast(tf.oneHot(tf.argMax(x, -1), 3), 'float32'), labelled);
      const t = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 2), 'int32'), 2);
      return [tf.cast(t, 'float32'), tf.concat([tf.cast(colour, 'float32'), part], -1)];
    });
    model.compile({ optimizer: tf.train.adam(0.05), loss: [(t: tf.Tensor, p: tf.Tensor) => tfl.metrics.categoricalCrossentropy(t, p), conceptLoss(sb)] });
    const history = await model.fit(x, [taskLabels, conceptLabels], { epochs: 25, batchSize: 16, verbose: 0 });
    const conceptLosses = history.history[`${model.outputNames[1]}_loss`] as number[];
    expect(conceptLosses[conceptLosses.length - 1]).toBeLessThan(conceptLosses[0] * 0.7);

    const optimizer = tf.train.adam(0.05);
    const loss = () => maskedGroupCrossEntropy(conceptLabels, (model.apply(x, { training: true }) as tf.Tensor[])[1], sb);
    const first = optimizer.minimize(loss, true)!;
    for (let i = 0; i < 10; i++) optimizer.minimize(loss, true)?.dispose();
    const last = optimizer.minimize(loss, true)!;
    expect((await last.data())[0]).toBeLessThan((await first.data())[0]);
    tf.dispose([x, taskLabels, conceptLabels, first, last]);
    optimizer.dispose();
    model.dispose();
  });

  it('survives a save/load round trip inside a Sequential model', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [2, 2, 3], units: 4 }),
        layers.semanticBottleneck({ concepts: groups, batchNorm: true, temperature: 0.8 }),
      ],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = seededTensor([3, 2, 2, 3], 12, 1);
    const [expected, actual] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    await expectClose(actual, expected, 1e-7);
    const config = loaded.layers[1].getConfig();
    expect(config).toMatchObject({ concepts: groups, activation: 'group-softmax', temperature: 0.8, batchNorm: true });
    tf.dispose([x, expected, actual]);
    model.dispose();
    loaded.dispose();
  });

  it('leaks no tensor when applied', async () => {
    const layer = bottleneck({ batchNorm: true });
    const x = seededTensor([2, 4], 13, 1);
    await expectNoLeak(() => layer.apply(x) as tf.Tensor);
    await expectNoLeak(() => layer.apply(x, { training: true }) as tf.Tensor);
    x.dispose();
    layer.dispose();
  });

  it('rejects bad configs with clear errors', () => {
    const make = (args: unknown) => () => layers.semanticBottleneck(args as SemanticBottleneckArgs);
    expect(make({ concepts: 0 })).toThrow(/config.concepts: expected a positive integer number of concept channels, got 0/);
    expect(make({ concepts: [] })).toThrow(/config.concepts: expected a number of channels or a non-empty array/);
    expect(make({ concepts: [{ name: 'a', size: 2 }, { name: 'b', size: 0 }] })).toThrow(/config.concepts\[1\]: expected \{ name: non-empty string, size: positive integer \}/);
    expect(make({ concepts: [{ name: 'a', size: 2 }, { name: 'a', size: 1 }] })).toThrow(/config.concepts\[1\].name: concept group names must be unique/);
    expect(make({ concepts: 3, activation: 'relu' })).toThrow(/config.activation: expected one of 'group-softmax', 'softmax', 'sigmoid', got "relu"/);
    expect(make({ concepts: 3, temperature: 0 })).toThrow(/config.temperature: expected a number in \(0, ∞\), got 0/);
    expect(make({ concepts: 3, batchNorm: 'yes' })).toThrow(/config.batchNorm: expected a boolean/);
  });
});
