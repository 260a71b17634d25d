/**
 * Every rule against an independent plain-JS computation of its formula (REFERENCE.md) on a random
 * Dense and a random strided Conv2D layer with biases and inputs of both signs. The layer is written
 * as a matrix `z = Mx + b` (built with loops for the convolution) and the output relevance `R` is an
 * arbitrary signed vector (a score-function target with `startFrom: 'one'`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { composites, lrp, rules, type Rule } from '../../src/index';
import { divideStabilized } from '../../src/advanced';
import { expectClose, expectNoLeak, seededValues } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const EPS = 1e-6;
const s = (z: number, eps = EPS): number => z + eps * (z >= 0 ? 1 : -1);
const pos = (v: number): number => Math.max(v, 0);
const neg = (v: number): number => Math.min(v, 0);

/** A linear layer as a matrix: M[j][i], connectivity C[j][i] (1 where input i feeds output j), bias b[j]. */
interface Linear {
  M: number[][];
  C: number[][];
  b: number[];
  /** Channel of every input feature (for per-channel bounds). */
  channelOf: number[];
}

type Reference = (layer: Linear, x: number[], R: number[]) => number[];

/** Σ_j A(j, i) for every input i. */
function backSum(layer: Linear, inputs: number, term: (j: number, i: number) => number): number[] {
  const out = new Array<number>(inputs).fill(0);
  for (let j = 0; j < layer.M.length; j++) for (let i = 0; i < inputs; i++) out[i] += term(j, i);
  return out;
}
const forward = (layer: Linear, x: number[], w: (m: number) => number, xs: (v: number) => number, bias: (v: number) => number): number[] =>
  layer.M.map((row, j) => row.reduce((acc, m, i) => acc + w(m) * xs(x[i]), bias(layer.b[j])));

const referenceRules: Record<string, { rule: Rule; reference: Reference }> = {
  epsilon: {
    rule: rules.epsilon({ epsilon: 0.1 }),
    reference: (L, x, R) => {
      const z = forward(L, x, (m) => m, (v) => v, (b) => b);
      return backSum(L, x.length, (j, i) => (x[i] * L.M[j][i] * R[j]) / s(z[j], 0.1));
    },
  },
  zPlus: {
    rule: rules.zPlus(),
    reference: (L, x, R) => {
      const z = L.M.map((row, j) => row.reduce((a, m, i) => a + pos(m) * pos(x[i]) + neg(m) * neg(x[i]), pos(L.b[j])));
      return backSum(L, x.length, (j, i) => ((pos(x[i]) * pos(L.M[j][i]) + neg(x[i]) * neg(L.M[j][i])) * R[j]) / s(z[j]));
    },
  },
  alphaBeta: {
    rule: rules.alphaBeta({ alpha: 3, beta: 2 }),
    reference: (L, x, R) => {
      const za = L.M.map((row, j) => row.reduce((a, m, i) => a + pos(m) * pos(x[i]) + neg(m) * neg(x[i]), pos(L.b[j])));
      const zb = L.M.map((row, j) => row.reduce((a, m, i) => a + neg(m) * pos(x[i]) + pos(m) * neg(x[i]), neg(L.b[j])));
      return backSum(L, x.length, (j, i) => {
        const m = L.M[j][i];
        const a = ((pos(x[i]) * pos(m) + neg(x[i]) * neg(m)) * R[j]) / s(za[j]);
        const b = ((pos(x[i]) * neg(m) + neg(x[i]) * pos(m)) * R[j]) / s(zb[j]);
        return 3 * a - 2 * b;
      });
    },
  },
  gamma: {
    rule: rules.gamma({ gamma: 0.5 }),
    reference: (L, x, R) => {
      const g = 0.5;
      const plus = (v: number): number => v + g * pos(v);
      const minus = (v: number): number => v + g * neg(v);
      const z = forward(L, x, (m) => m, (v) => v, (b) => b);
      const zp = L.M.map((row, j) => row.reduce((a, m, i) => a + plus(m) * pos(x[i]) + minus(m) * neg(x[i]), plus(L.b[j])));
      const zn = L.M.map((row, j) => row.reduce((a, m, i) => a + minus(m) * pos(x[i]) + plus(m) * neg(x[i]), minus(L.b[j])));
      return backSum(L, x.length, (j, i) => {
        const m = L.M[j][i];
        if (z[j] > 0) return ((pos(x[i]) * plus(m) + neg(x[i]) * minus(m)) * R[j]) / s(zp[j]);
        if (z[j] < 0) return ((pos(x[i]) * minus(m) + neg(x[i]) * plus(m)) * R[j]) / s(zn[j]);
        return 0;
      });
    },
  },
  flat: {
    rule: rules.flat(),
    reference: (L, x, R) => {
      const n = L.C.map((row) => row.reduce((a, c) => a + c, 0));
      return backSum(L, x.length, (j, i) => (L.C[j][i] * R[j]) / s(n[j]));
    },
  },
  wSquare: {
    rule: rules.wSquare(),
    reference: (L, x, R) => {
      const z = L.M.map((row, j) => row.reduce((a, m) => a + m * m, L.b[j] * L.b[j]));
      return backSum(L, x.length, (j, i) => (L.M[j][i] ** 2 * R[j]) / s(z[j]));
    },
  },
};

/** ZBox with per-channel bounds low = −1 − 0.1c, high = 1 + 0.2c. */
const zBoxLow = (c: number): number => -1 - 0.1 * c;
const zBoxHigh = (c: number): number => 1 + 0.2 * c;
const zBoxReference: Reference = (L, x, R) => {
  const l = L.channelOf.map(zBoxLow);
  const h = L.channelOf.map(zBoxHigh);
  const z = L.M.map((row) => row.reduce((a, m, i) => a + m * x[i] - pos(m) * l[i] - neg(m) * h[i], 0));
  return backSum(L, x.length, (j, i) => ((x[i] * L.M[j][i] - l[i] * pos(L.M[j][i]) - h[i] * neg(L.M[j][i])) * R[j]) / s(z[j]));
};

/** Dense 5 → 4 as a matrix. */
function denseMatrix(kernel: Float32Array, bias: Float32Array, inputs: number, units: number): Linear {
  const M = Array.from({ length: units }, (_, j) => Array.from({ length: inputs }, (_, i) => kernel[i * units + j]));
  return { M, C: M.map((row) => row.map(() => 1)), b: Array.from(bias), channelOf: Array.from({ length: inputs }, (_, i) => i) };
}

/** Conv2D with 'same' padding and stride `stride` on [H, W, cin] as a matrix over NHWC-flattened features. */
function convMatrix(kernel: Float32Array, bias: Float32Array, [H, W, cin]: number[], [kh, kw, cout]: number[], stride: number): Linear {
  const Ho = Math.ceil(H / stride);
  const Wo = Math.ceil(W / stride);
  const top = Math.floor(Math.max((Ho - 1) * stride + kh - H, 0) / 2);
  const left = Math.floor(Math.max((Wo - 1) * stride + kw - W, 0) / 2);
  const M: number[][] = [];
  const C: number[][] = [];
  const b: number[] = [];
  for (let oh = 0; oh < Ho; oh++)
    for (let ow = 0; ow < Wo; ow++)
      for (let co = 0; co < cout; co++) {
        const row = new Array<number>(H * W * cin).fill(0);
        const conn = new Array<number>(H * W * cin).fill(0);
        for (let r = 0; r < kh; r++)
          for (let q = 0; q < kw; q++) {
            const ih = oh * stride - top + r;
            const iw = ow * stride - left + q;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let ci = 0; ci < cin; ci++) {
              row[(ih * W + iw) * cin + ci] = kernel[((r * kw + q) * cin + ci) * cout + co];
              conn[(ih * W + iw) * cin + ci] = 1;
            }
          }
        M.push(row);
        C.push(conn);
        b.push(bias[co]);
      }
  return { M, C, b, channelOf: Array.from({ length: H * W * cin }, (_, i) => i % cin) };
}

interface Case {
  name: string;
  model: tfl.LayersModel;
  linear: Linear;
  inputShape: number[];
}

function cases(): Case[] {
  const dense = setSeededWeights(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 4 })] }), 21, 1);
  const [dk, db] = dense.getWeights().map((w) => w.dataSync() as Float32Array);
  const conv = setSeededWeights(
    tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same' })] }),
    22,
    1,
  );
  const [ck, cb] = conv.getWeights().map((w) => w.dataSync() as Float32Array);
  return [
    { name: 'Dense', model: dense, linear: denseMatrix(dk, db, 5, 4), inputShape: [5] },
    { name: 'Conv2D', model: conv, linear: convMatrix(ck, cb, [5, 5, 2], [3, 3, 3], 2), inputShape: [5, 5, 2] },
  ];
}

describe('LRP rules match their formulas', () => {
  const all = cases();
  afterAll(() => all.forEach((c) => c.model.dispose()));

  for (const { name, model, linear, inputShape } of all) {
    const examples = 2;
    const features = inputShape.reduce((a, b) => a * b, 1);
    const outputs = linear.M.length;
    const xValues = seededValues(examples * features, 31).map((v) => 1.5 * v);
    const rValues = seededValues(examples * outputs, 32);

    const run = async (rule: Rule, extra: Partial<Parameters<typeof lrp>[2]> = {}): Promise<tf.Tensor> => {
      const x = tf.tensor(xValues, [examples, ...inputShape]);
      const weights = tf.tensor(rValues, [examples, outputs]);
      // Score Σ_j R_j·f_j(x): with startFrom 'one' the output relevance is exactly R.
      const target = (out: tf.Tensor, rows: Int32Array): tf.Tensor1D =>
        tf.sum(tf.mul(tf.reshape(out, [rows.length, -1]), tf.gather(weights, tf.tensor1d(rows, 'int32'))), 1) as tf.Tensor1D;
      try {
        const kind = name === 'Dense' ? 'dense' : 'conv';
        return await expectNoLeak(() =>
          lrp(model, x, { target, startFrom: 'one', composite: composites.custom({ kinds: { [kind]: rule } }), ...extra }),
        );
      } finally {
        x.dispose();
        weights.dispose();
      }
    };
    const expected = (reference: Reference): number[] => {
      const out: number[] = [];
      for (let e = 0; e < examples; e++) {
        const x = Array.from(xValues.slice(e * features, (e + 1) * features));
        const R = Array.from(rValues.slice(e * outputs, (e + 1) * outputs));
        out.push(...reference(linear, x, R));
      }
      return out;
    };

    for (const [ruleName, { rule, reference }] of Object.entries(referenceRules)) {
      it(`${ruleName} on ${name}`, async () => {
        const relevance = await run(rule);
        await expectClose(relevance, expected(reference), 1e-4);
        relevance.dispose();
      });
    }

    it(`zBox with per-channel bounds on ${name}`, async () => {
      const channels = name === 'Dense' ? 5 : 2;
      const low = Array.from({ length: channels }, (_, c) => zBoxLow(c));
      const high = Array.from({ length: channels }, (_, c) => zBoxHigh(c));
      const relevance = await run(rules.zBox({ low, high }));
      await expectClose(relevance, expected(zBoxReference), 1e-4);
      // The same bounds as a broadcastable tensor.
      const lowTensor = tf.tensor1d(low);
      const highTensor = tf.tensor1d(high);
      const fromTensors = await run(rules.zBox({ low: lowTensor, high: highTensor }));
      await expectClose(fromTensors, relevance, 1e-6);
      [relevance, fromTensors, lowTensor, highTensor].forEach((t) => t.dispose());
    });
  }

  it('norm on average pooling and pass on activations', async () => {
    const pool = tfl.sequential({ layers: [tfl.layers.averagePooling2d({ inputShape: [4, 4, 1], poolSize: 2 })] });
    const xValues = seededValues(16, 41);
    const x = tf.tensor(xValues, [1, 4, 4, 1]);
    const relevance = await lrp(pool, x, { target: (o) => tf.sum(tf.reshape(o, [1, -1]), 1) as tf.Tensor1D, startFrom: 'one', composite: 'epsilon' });
    const expectedNorm = Array.from(xValues, (v, i) => {
      const [r, c] = [Math.floor(i / 4), i % 4];
      let z = 0;
      for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) z += xValues[(2 * Math.floor(r / 2) + dr) * 4 + 2 * Math.floor(c / 2) + dc] / 4;
      return (v / 4) / s(z);
    });
    await expectClose(relevance, expectedNorm, 1e-4);

    const act = tfl.sequential({ layers: [tfl.layers.activation({ inputShape: [4], activation: 'tanh' })] });
    const v = tf.tensor2d([[0.5, -1, 2, 0.1]]);
    const passed = await lrp(act, v, { target: 2, startFrom: 'one' });
    expect(Array.from(await passed.data())).toEqual([0, 0, 1, 0]);
    [x, relevance, v, passed].forEach((t) => t.dispose());
    pool.dispose();
    act.dispose();
  });

  it('stabilise with sign(0) = +1, and LRP-0 sends nothing through zero pre-activations', async () => {
    const r = tf.tensor1d([1, 1, 1, 2]);
    const z = tf.tensor1d([0, 2, -2, 0]);
    const stabilised = divideStabilized(r, z, 0.5);
    await expectClose(stabilised, [2, 1 / 2.5, -1 / 2.5, 4], 1e-7);
    const zero = divideStabilized(r, z, 0);
    await expectClose(zero, [0, 0.5, -0.5, 0], 1e-7);
    [r, z, stabilised, zero].forEach((t) => t.dispose());
  });

  it('reject invalid settings with clear errors', () => {
    expect(() => rules.alphaBeta({ alpha: 2, beta: 2 })).toThrow(/alpha − beta must be 1.*alpha = 2, beta = 2/);
    expect(() => rules.alphaBeta({ alpha: 0.5, beta: -0.5 })).toThrow(/beta: expected a number in \[0/);
    expect(() => rules.epsilon({ epsilon: -1 })).toThrow(/epsilon: expected a number in \[0/);
    expect(() => rules.gamma({ gamma: Number.NaN })).toThrow(/gamma/);
    expect(() => rules.zBox({ low: 1, high: 0 })).toThrow(/low ≤ high/);
    expect(() => rules.zBox({ low: 'a' as unknown as number, high: 1 })).toThrow(/low: expected a number, an array/);
  });
});
