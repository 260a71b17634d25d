import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { info } from '../../src/index';
import { expectNoLeak, expectRejectsWithoutLeak } from '../helpers';
import { referenceGcmi, referenceGcmiDiscrete, referenceUnitInformation } from './reference';
import { balancedLabels, columns, mixedGaussian, near } from './samples';

/** Backend (float32) vs float64 reference, in bits (measured: below 5e-7 on cpu and wasm). */
const BITS = 1e-4;
const N = 150;
const UNITS = 9;
const labels = balancedLabels(N, 3, 4);
const factorValues = mixedGaussian(N, [[1, 0], [0.5, 0.8]], 8); // [N, 2] continuous factor

/**
 * `[N, UNITS]` activations: units mixing the class, the continuous factor and noise in different
 * amounts; unit 2 is ReLU-like (many ties), unit 5 pure noise, unit 7 a monotone copy of factor column 0.
 */
function activationValues(): Float32Array {
  const noise = mixedGaussian(N, Array.from({ length: UNITS }, (_, i) => Array.from({ length: UNITS }, (_, j) => (i === j ? 1 : 0))), 3);
  const out = new Float32Array(N * UNITS);
  for (let i = 0; i < N; i++) {
    for (let u = 0; u < UNITS; u++) {
      const e = noise[i * UNITS + u];
      const [f0, f1] = [factorValues[2 * i], factorValues[2 * i + 1]];
      let v = 0.3 * u * labels[i] + (u % 3) * 0.4 * f0 - 0.2 * f1 + e;
      if (u === 2) v = Math.max(0, v - 0.5);
      if (u === 5) v = e;
      if (u === 7) v = Math.exp(f0);
      out[i * UNITS + u] = v;
    }
  }
  return out;
}
const values = activationValues();
const units = columns(values, N, UNITS);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('unitInformation', () => {
  it('equals the float64 reference gcmi_model_cd of every unit (discrete factor, ties in sample order)', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    const result = await expectNoLeak(() => info.unitInformation(activations, { labels, numClasses: 3 }));
    expect(result.shape).toEqual([UNITS]);
    const got = await result.data();
    units.forEach((column, u) => {
      const expected = referenceGcmiDiscrete([column], labels, 3);
      expect(near(got[u], expected, BITS), `unit ${u}: ${got[u]} vs ${expected}`).toBe(true);
    });
    tf.dispose([activations, result]);
  });

  it('equals the float64 reference gcmi_cc of every unit (continuous factor of 1 and 2 dimensions)', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    const factor = tf.tensor2d(factorValues, [N, 2]);
    const first = tf.tidy(() => tf.reshape(tf.slice(factor, [0, 0], [N, 1]), [N]));
    const factorColumns = columns(factorValues, N, 2);
    for (const [valuesTensor, y] of [[factor, factorColumns], [first, factorColumns.slice(0, 1)]] as const) {
      const result = await expectNoLeak(() => info.unitInformation(activations, { values: valuesTensor }));
      const got = await result.data();
      units.forEach((column, u) => {
        if (u === 7) return; // a monotone copy of the factor: saturates (checked below)
        const expected = referenceGcmi([column], y);
        expect(near(got[u], expected, BITS), `unit ${u} (${y.length} dims): ${got[u]} vs ${expected}`).toBe(true);
      });
      result.dispose();
    }
    tf.dispose([activations, factor, first]);
  });

  it('agrees with gcmiDiscrete / gcmi of each column, saturates for a copy of the factor, ~0 for noise', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    const factor0 = tf.tensor1d(Float32Array.from(columns(factorValues, N, 2)[0]));
    const discreteResult = await info.unitInformation(activations, { labels, numClasses: 3 });
    const continuousResult = await info.unitInformation(activations, { values: factor0 });
    const [discrete, continuous] = [await discreteResult.data(), await continuousResult.data()];
    for (const u of [0, 4, 8]) {
      const column = tf.tidy(() => tf.slice(activations, [0, u], [N, 1]));
      expect(near(discrete[u], await info.gcmiDiscrete(column, labels, 3), BITS)).toBe(true);
      expect(near(continuous[u], await info.gcmi(column, factor0), BITS)).toBe(true);
      column.dispose();
    }
    // exp(f0) has f0's ranks: the unit determines the factor; float32 saturates it at 10 bits + bias.
    expect(continuous[7]).toBeGreaterThan(9.9);
    expect(continuous[7]).toBeLessThan(10.1);
    expect(Math.abs(continuous[5])).toBeLessThan(0.05);
    expect(Math.abs(discrete[5])).toBeLessThan(0.05);
    tf.dispose([activations, factor0, discreteResult, continuousResult]);
  });

  it("the benchmark's plain-JS baseline computes the same formulas as the reference estimators", () => {
    const discrete = referenceUnitInformation(values, N, UNITS, { labels, numClasses: 3 });
    const factorColumns = columns(factorValues, N, 2);
    const continuous = referenceUnitInformation(values, N, UNITS, { columns: factorColumns });
    units.forEach((column, u) => {
      expect(discrete[u]).toBeCloseTo(referenceGcmiDiscrete([column], labels, 3), 10);
      if (u !== 7) expect(continuous[u]).toBeCloseTo(referenceGcmi([column], factorColumns), 10);
    });
  });

  it('does not depend on the chunking, with or without jitter; jitter is seeded', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    for (const jitter of [false, true]) {
      const runs = await Promise.all([1, 4, 100].map(async (unitsPerChunk) => {
        const r = await info.unitInformation(activations, { labels, numClasses: 3, unitsPerChunk, jitter, seed: 5 });
        const d = Array.from(await r.data());
        r.dispose();
        return d;
      }));
      runs.slice(1).forEach((run) => run.forEach((v, u) => expect(v).toBeCloseTo(runs[0][u], 5)));
    }
    const other = await info.unitInformation(activations, { labels, numClasses: 3, jitter: true, seed: 6 });
    const same = await info.unitInformation(activations, { labels, numClasses: 3, jitter: true, seed: 5 });
    const [o, s] = [await other.data(), await same.data()];
    expect(o[2]).not.toBeCloseTo(s[2], 6); // the ReLU-like unit's ties are broken differently
    expect(o[0]).toBeCloseTo(s[0], 5); // no ties: unchanged
    tf.dispose([activations, other, same]);
  });

  it('warns once about ties, naming activations', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    tf.dispose(await info.unitInformation(activations, { labels, numClasses: 3, unitsPerChunk: 2 }));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/activations: \d+\.\d % of the values of column 2 repeat/);
    activations.dispose();
  });

  it('reports progress per chunk of units and aborts without leaking', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const activations = tf.tensor2d(values, [N, UNITS]);
    const progress: [number, number][] = [];
    tf.dispose(await info.unitInformation(activations, { labels, numClasses: 3, unitsPerChunk: 4, onProgress: (d, t) => progress.push([d, t]) }));
    expect(progress).toEqual([[4, 9], [8, 9], [9, 9]]);
    const controller = new AbortController();
    await expectRejectsWithoutLeak(
      () => info.unitInformation(activations, { labels, numClasses: 3, unitsPerChunk: 2, signal: controller.signal, onProgress: () => controller.abort() }),
      /aborted/,
    );
    activations.dispose();
  });

  it('rejects bad input, naming the argument', async () => {
    const activations = tf.tensor2d(values, [N, UNITS]);
    const cube = tf.zeros([N, 2, 2]);
    const shortValues = tf.zeros([N - 1]);
    await expectRejectsWithoutLeak(() => info.unitInformation(cube, { labels, numClasses: 3 }), /activations: expected samples on the first axis/);
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, {} as never), /options: expected \{ labels, numClasses \} \(discrete\) or \{ values \}/);
    await expectRejectsWithoutLeak(
      () => info.unitInformation(activations, { labels, numClasses: 3, values: shortValues } as never),
      /options: give either labels \(discrete\) or values \(continuous\), not both/,
    );
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, { values: shortValues }), /options.values: expected 150 samples \(like the activations\)/);
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, { labels, numClasses: 2 }), /options.labels: label \d+ is 2: expected an integer class in 0..1/);
    const lonely = Int32Array.from({ length: N }, (_, i) => (i === 0 ? 1 : 0));
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, { labels: lonely, numClasses: 2 }), /options.labels: every class needs more than 1 sample.*class 1 \(1\)/);
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, { labels, numClasses: 3, unitPerChunk: 3 } as never), /options.unitPerChunk: unknown option; did you mean 'unitsPerChunk'/);
    await expectRejectsWithoutLeak(() => info.unitInformation(activations, { labels, numClasses: 3, unitsPerChunk: 0 }), /options.unitsPerChunk: expected an integer >= 1/);
    tf.dispose([activations, cube, shortValues]);
  });
});
