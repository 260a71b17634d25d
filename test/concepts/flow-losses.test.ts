import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RHO, disentanglingLoss, flowNll } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers/index';

function output(seed: number, n = 4, dim = 6) {
  return { z: seededTensor([n, dim], seed, 2) as tf.Tensor2D, logDet: seededTensor([n], seed + 100, 3) as tf.Tensor1D };
}

/** Plain-JS disentangling loss for one pair with shared factor `f` (−1: none). */
function referencePair(za: number[], lda: number, zb: number[], ldb: number, f: number, sizes: number[], rho: number): number {
  const factorOf = sizes.flatMap((s, k) => new Array<number>(s).fill(k));
  let loss = -lda - ldb;
  za.forEach((v, d) => {
    loss += 0.5 * v * v;
    loss += factorOf[d] === f ? (0.5 * (zb[d] - rho * v) ** 2) / (1 - rho * rho) : 0.5 * zb[d] ** 2;
  });
  return loss;
}

describe('flow losses', () => {
  it('flowNll is mean(½‖z‖² − logDet)', async () => {
    const o = output(1);
    const z = (await o.z.array()) as number[][];
    const ld = Array.from(await o.logDet.data());
    const expected = z.reduce((s, row, n) => s + 0.5 * row.reduce((a, v) => a + v * v, 0) - ld[n], 0) / z.length;
    const loss = await expectNoLeak(() => flowNll(o));
    await expectClose(loss, [expected], 1e-6);
    tf.dispose([o.z, o.logDet, loss]);
  });

  it('flowNll has gradient z/N with respect to z and −1/N with respect to logDet', async () => {
    const o = output(2);
    const [gz, gl] = tf.grads((z: tf.Tensor, logDet: tf.Tensor) => flowNll({ z: z as tf.Tensor2D, logDet: logDet as tf.Tensor1D }))([o.z, o.logDet]);
    await expectClose(gz, tf.div(o.z, 4), 1e-6);
    await expectClose(gl, tf.fill([4], -0.25), 1e-6);
    tf.dispose([o.z, o.logDet, gz, gl]);
  });

  it('disentanglingLoss matches the formula per pair, with factor indices as numbers, arrays or tensors', async () => {
    const a = output(3);
    const b = output(4);
    const sizes = [2, 1, 3];
    const shared = [0, 2, -1, 1];
    const [za, zb] = [(await a.z.array()) as number[][], (await b.z.array()) as number[][]];
    const [lda, ldb] = [Array.from(await a.logDet.data()), Array.from(await b.logDet.data())];
    for (const rho of [DEFAULT_RHO, 0.5]) {
      const expected = shared.reduce((s, f, n) => s + referencePair(za[n], lda[n], zb[n], ldb[n], f, sizes, rho), 0) / shared.length;
      const loss = await expectNoLeak(() => disentanglingLoss(rho)(a, b, shared, sizes));
      await expectClose(loss, [expected], 1e-5);
      const ids = tf.tensor1d(shared, 'int32');
      const fromTensor = disentanglingLoss(rho)(a, b, ids, sizes);
      await expectClose(fromTensor, [expected], 1e-5);
      tf.dispose([loss, ids, fromTensor]);
    }
    const allFirst = disentanglingLoss()(a, b, 0, sizes);
    const expectedFirst = za.reduce((s, _, n) => s + referencePair(za[n], lda[n], zb[n], ldb[n], 0, sizes, DEFAULT_RHO), 0) / 4;
    await expectClose(allFirst, [expectedFirst], 1e-5);
    tf.dispose([a.z, a.logDet, b.z, b.logDet, allFirst]);
  });

  it('rejects ρ outside (0, 1), sizes that do not add up to D and bad factor indices, leaking nothing', async () => {
    for (const rho of [0, 1, 1.5, -0.2, Number.NaN]) expect(() => disentanglingLoss(rho)).toThrow(/rho: expected a number in \(0, 1\)/);
    const a = output(5);
    const b = output(6);
    const c = output(7, 3);
    const loss = disentanglingLoss();
    const before = tf.memory().numTensors;
    expect(() => loss(a, b, 0, [2, 2])).toThrow(/factorSizes: the sizes \[2, 2\] add up to 4, but z has D = 6/);
    expect(() => loss(a, b, 3, [2, 4])).toThrow(/shared: expected one factor index in \[-1, 1\] per pair \(4 pairs\)/);
    expect(() => loss(a, b, [0, 1], [2, 4])).toThrow(/shared/);
    expect(() => loss(a, c, 0, [2, 4])).toThrow(/b.z: expected the shape of a.z \[4, 6\], got \[3, 6\]/);
    expect(() => flowNll({ z: a.z, logDet: a.z } as never)).toThrow(/output: expected \{ z: \[N, D\], logDet: \[N\] \}/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a.z, a.logDet, b.z, b.logDet, c.z, c.logDet]);
  });
});
