import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { info, layerInformation, type LayerInformationResult } from '../../src/index';
import { layerActivations, tapLayers } from '../../src/attribution/layer-gradients';
import { resolveModel } from '../../src/core/model';
import { exampleRange } from '../../src/core/prepare';
import { resolveTarget } from '../../src/core/target';
import { expectNoLeak, expectRejectsWithoutLeak } from '../helpers';
import { balancedLabels, normalValues } from './samples';

const N = 160;
const labels = balancedLabels(N, 2, 3);
const position = Float32Array.from(normalValues(N, 5));
const noise = Float32Array.from(normalValues(2 * N, 6));

/**
 * Inputs `[N, 3]`: column 0 = the continuous factor `position`, column 1 = class + noise, column 2 =
 * noise. The model copies them through a nested model's dense layer `copy` (identity weights), then a
 * ReLU layer `rectified` and a dense head: unit 0 of `copy` copies the factor, unit 2 is independent of
 * every factor.
 */
function copyModel(): { model: tfl.LayersModel; x: tf.Tensor2D } {
  const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.dense({ inputShape: [3], units: 3, name: 'copy', useBias: false })] });
  inner.layers[0].setWeights([tf.eye(3)]);
  const input = tfl.input({ shape: [3] });
  const copied = inner.apply(input) as tfl.SymbolicTensor;
  const rectified = tfl.layers.reLU({ name: 'rectified' }).apply(copied) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 1, name: 'head' }).apply(rectified) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const rows = new Float32Array(N * 3);
  for (let i = 0; i < N; i++) {
    rows[3 * i] = position[i];
    rows[3 * i + 1] = 2 * labels[i] + 0.5 * noise[i];
    rows[3 * i + 2] = noise[N + i];
  }
  return { model, x: tf.tensor2d(rows, [N, 3]) };
}

const factors = () => ({
  position: { values: tf.tensor1d(position) },
  label: { labels, numClasses: 2 },
  twin: { labels: Array.from(labels), numClasses: 2 },
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('layerInformation', () => {
  it('finds the copied factor in its unit and nothing in the independent one; significance by max statistic', async () => {
    const { model, x } = copyModel();
    const f = factors();
    const result = await expectNoLeak(() =>
      layerInformation(model, x, f, { layers: ['copy', 'rectified'], permutations: 50, seed: 1, topUnits: 2, bins: 5, batchSize: 48, pairs: [] }),
    );
    expect(result.samples).toBe(N);
    expect(result.factors).toEqual(['position', 'label', 'twin']);
    const [copy, rectified] = result.layers;
    expect(copy.layer).toBe('copy');
    expect(copy.shape).toEqual([3]);
    const pos = copy.factors.position;
    expect(pos.unitInformation[0]).toBeGreaterThan(9); // a copy saturates (10 bits + bias)
    expect(Math.abs(pos.unitInformation[2])).toBeLessThan(0.1);
    expect(pos.maxUnit).toBe(0);
    expect(pos.topUnits[0]).toBe(0);
    expect(copy.factors.label.unitInformation[1]).toBeGreaterThan(0.5);
    expect(copy.factors.label.maxUnit).toBe(1);
    // Permutation test: the copied unit beats every permutation maximum; the noise unit does not.
    const sig = pos.significance!;
    expect(sig.permutationMaxima.length).toBe(50);
    expect(sig.pValues[0]).toBeCloseTo(1 / 51, 6);
    expect(sig.pValues[2]).toBeGreaterThan(0.05);
    expect(sig.significantUnits).toBe(1);
    expect(sig.threshold).toBeLessThan(0.2);
    // The histogram counts every unit.
    expect(pos.histogram.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(pos.histogram.edges.length).toBe(6);
    // ReLU zeros: about half of each rectified unit repeats.
    expect(rectified.tiedUnits).toBe(1);
    expect(copy.tiedUnits).toBe(0);
    tf.dispose([x, f.position.values]);
  });

  it('matches unitInformation on the same activations, and does not depend on batchSize or the memory bound', async () => {
    const { model, x } = copyModel();
    const f = factors();
    const runs: LayerInformationResult[] = [];
    for (const [batchSize, maxActivationValues] of [[32, 2 ** 23], [7, N]] as const) {
      runs.push(await layerInformation(model, x, f, { layers: ['copy', 'rectified'], batchSize, maxActivationValues, seed: 2, pairs: [], permutations: 5 }));
    }
    expect(runs[0].passes).toBe(1);
    expect(runs[1].passes).toBe(6); // one unit per pass
    for (const [l, layer] of runs[0].layers.entries()) {
      for (const name of runs[0].factors) {
        const [a, b] = [layer.factors[name], runs[1].layers[l].factors[name]];
        a.unitInformation.forEach((v, u) => expect(b.unitInformation[u]).toBeCloseTo(v, 5));
        a.significance!.permutationMaxima.forEach((v, p) => expect(b.significance!.permutationMaxima[p]).toBeCloseTo(v, 5));
        expect(b.topUnitsInformation).toBeCloseTo(a.topUnitsInformation, 4);
      }
    }
    // Without jitter, the per-unit values are exactly those of unitInformation on the activations.
    const plain = await layerInformation(model, x, f, { layers: ['copy'], jitter: false, pairs: [] });
    const resolved = resolveModel(model);
    const evaluator = { model: resolved, target: await resolveTarget(undefined, x.shape[0]), seed: 0 };
    const activations = layerActivations(evaluator, tapLayers(resolved, ['copy'], 'layers', 'test'), [x], exampleRange(0, x.shape[0]))[0];
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const direct = await info.unitInformation(activations, { labels, numClasses: 2 });
    const expected = await direct.data();
    plain.layers[0].factors.label.unitInformation.forEach((v, u) => expect(v).toBeCloseTo(expected[u], 6));
    tf.dispose([x, f.position.values, activations, direct]);
  });

  it('measures invariance and co-information: a redundant twin factor explains the label away', async () => {
    const { model, x } = copyModel();
    const f = factors();
    const result = await layerInformation(model, x, f, { layers: ['copy'], seed: 3, topUnits: 2, pairs: [['label', 'twin'], ['label', 'position'], ['position', 'label']] });
    const [twin, independent, continuous] = result.layers[0].pairs;
    expect(twin.factor).toBe('label');
    expect(twin.information).toBeGreaterThan(0.5);
    // Given its identical twin, the label carries nothing more: I(L; label | twin) = 0, all redundant.
    expect(Math.abs(twin.conditional!)).toBeLessThan(1e-9);
    expect(twin.coInformation).toBeCloseTo(twin.information, 6);
    // The position is independent of the label: conditioning on it changes little.
    expect(Math.abs(independent.coInformation!)).toBeLessThan(0.1);
    expect(Math.abs(continuous.coInformation!)).toBeLessThan(0.15);
    expect(continuous.conditional).not.toBeNull();
    tf.dispose([x, f.position.values]);
  });

  it('reports progress over all passes and aborts without leaking', async () => {
    const { model, x } = copyModel();
    const f = factors();
    const progress: number[][] = [];
    await layerInformation(model, x, f, { layers: ['copy'], batchSize: 64, maxActivationValues: 2 * N, pairs: [], onProgress: (d, t) => progress.push([d, t]) });
    expect(progress).toEqual([[64, 320], [128, 320], [160, 320], [224, 320], [288, 320], [320, 320]]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => layerInformation(model, x, f, { layers: ['copy', 'rectified'], batchSize: 64, maxActivationValues: N, signal: controller.signal, onProgress: (d) => d > 200 && controller.abort() }),
      /aborted/,
    );
    tf.dispose([x, f.position.values]);
  });

  it('rejects bad input, naming the argument', async () => {
    const { model, x } = copyModel();
    const f = factors();
    const short = { labels: labels.slice(1), numClasses: 2 };
    await expectRejectsWithoutLeak(() => layerInformation(model, x, f, { layers: ['nope'] }), /options.layers: the model has no layer named "nope".*copy/);
    await expectRejectsWithoutLeak(() => layerInformation(model, x, { short }, { layers: ['copy'] }), /factors.short.labels: expected one label per sample \(160\), got 159/);
    await expectRejectsWithoutLeak(() => layerInformation(model, x, {}, { layers: ['copy'] }), /factors: expected an object of named factors/);
    await expectRejectsWithoutLeak(() => layerInformation(model, x, f, { layers: ['copy'], permutation: 3 } as never), /options.permutation: unknown option; did you mean 'permutations'/);
    await expectRejectsWithoutLeak(() => layerInformation(model, x, f, { layers: ['copy'], pairs: [['label', 'label']] }), /options.pairs\[0\]: expected \[factor, given\]/);
    await expectRejectsWithoutLeak(() => layerInformation(model, x, f, { layers: [] }), /options.layers: expected a non-empty array/);
    const wide = tf.zeros([N, 4]);
    await expectRejectsWithoutLeak(() => layerInformation(model, wide, f, { layers: ['copy'] }), /x: expected shape \[any, 3\]/);
    tf.dispose([x, f.position.values, wide]);
  });
});
