/**
 * LRP through the layers added in 0.2: LayerNormalization, Multiply / Average / Maximum, Rescaling,
 * RepeatVector, Embedding, SimpleRNN / LSTM / GRU / Bidirectional, TimeDistributed, models with
 * several inputs and Sequential models with an explicit InputLayer. Checks: the compiled program
 * computes the model's output; conservation (Σ R_in = f_c(x), bias-free); LRP-0 = gradient × input
 * where the network is piecewise linear (with the gates or σ held constant where the rules hold them
 * constant); and the LSTM/GRU rules (Arras et al. 2017) against plain-JS float64 references.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../src/attribution/lrp/graph';
import { forwardValues } from '../../src/attribution/lrp/propagate';
import { composites, gradientXInput, lrp, rules } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

const noBias = { useBias: false };
/** Recurrent layers without biases; the orthogonal default initializer needs tfjs's chained ops, which the tests do not load. */
const rnnOptions = { useBias: false, recurrentInitializer: 'glorotUniform' as const };
const lrp0 = { composite: 'epsilon' as const, epsilon: 0 };

/** Σ over all axes but the first. */
function rowSums(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.reshape(t, [t.shape[0], -1]), 1) as tf.Tensor1D;
}

/** The chosen logit per example. */
function chosen(model: tfl.LayersModel, x: tf.Tensor | tf.Tensor[], target: number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.predict(x) as tf.Tensor2D;
    return tf.sum(tf.mul(logits, tf.oneHot(tf.tensor1d(target, 'int32'), logits.shape[1])), 1) as tf.Tensor1D;
  });
}

/** The program's output equals the model's (the compilation is faithful). */
async function expectFaithful(model: tfl.LayersModel, x: tf.Tensor | tf.Tensor[]): Promise<void> {
  const program = compileProgram(model, { composite: composites.epsilon(), canonize: true });
  const [ours, theirs] = tf.tidy(() => [forwardValues(program, x)[program.output], model.predict(x) as tf.Tensor]);
  await expectClose(ours, theirs, 1e-5);
  [ours, theirs].forEach((t) => t.dispose());
  program.dispose();
}

/** LRP-0 equals `reference` (gradient × input), and the relevance sums to the chosen logit. */
async function expectLrpZero(model: tfl.LayersModel, x: tf.Tensor, target: number[], reference?: tf.Tensor): Promise<void> {
  await expectFaithful(model, x);
  const relevance = await expectNoLeak(() => lrp(model, x, { target, ...lrp0 }));
  const expected = reference ?? (await gradientXInput(model, x, { target }));
  await expectClose(relevance, expected, 1e-4);
  await expectConserved(relevance, chosen(model, x, target));
  expect((await tf.tidy(() => tf.sum(tf.abs(relevance))).data())[0]).toBeGreaterThan(1e-3);
  [relevance, expected].forEach((t) => t.dispose());
}

async function expectConserved(relevance: tf.Tensor | tf.Tensor[], scores: tf.Tensor1D, tolerance = 1e-4): Promise<void> {
  const list = Array.isArray(relevance) ? relevance : [relevance];
  const sums = tf.tidy(() => list.map(rowSums).reduce((a, b) => tf.add(a, b)));
  await expectClose(sums, scores, tolerance);
  [sums, scores].forEach((t) => t.dispose());
}

describe('LRP through merges, normalisation, rescaling and repeats', () => {
  it('Average and Maximum merges, Rescaling and RepeatVector: LRP-0 = gradient × input, conserved', async () => {
    const input = tfl.input({ shape: [5] });
    const scaled = tfl.layers.rescaling({ scale: 0.5 }).apply(input) as tfl.SymbolicTensor;
    const a = tfl.layers.dense({ units: 6, activation: 'relu', ...noBias }).apply(scaled) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 6, activation: 'relu', ...noBias }).apply(scaled) as tfl.SymbolicTensor;
    const mean = tfl.layers.average().apply([a, b]) as tfl.SymbolicTensor;
    const max = tfl.layers.maximum().apply([a, b]) as tfl.SymbolicTensor;
    const joined = tfl.layers.concatenate().apply([mean, max]) as tfl.SymbolicTensor;
    const repeated = tfl.layers.repeatVector({ n: 3 }).apply(joined) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(repeated) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 3, ...noBias }).apply(flat) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: logits }), 21, 0.8);
    const x = seededTensor([3, 5], 22, 2);
    await expectLrpZero(model, x, [0, 2, 1]);
    x.dispose();
  });

  it('LayerNormalization: linear with σ held constant, so LRP-0 = gradient × input of that map, conserved', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.dense({ inputShape: [5], units: 6, activation: 'relu', ...noBias }),
          tfl.layers.layerNormalization({ center: false }),
          tfl.layers.dense({ units: 4, activation: 'relu', ...noBias }),
          tfl.layers.dense({ units: 2, ...noBias }),
        ],
      }),
      23,
      0.8,
    );
    const x = seededTensor([3, 5], 24, 2);
    const [first, norm, third, fourth] = model.layers;
    const gamma = norm.getWeights()[0];
    // Reference: autodiff through the network with σ computed from a constant copy of the input.
    const reference = tf.tidy(() => {
      const frozenSigma = (h: tf.Tensor, sigma: tf.Tensor) => tf.mul(tf.div(tf.sub(h, tf.mean(h, -1, true)), sigma), gamma);
      const h = first.apply(x) as tf.Tensor;
      const sigma = tf.sqrt(tf.add(tf.moments(h, -1, true).variance, 1e-3));
      const tail = (v: tf.Tensor) => fourth.apply(third.apply(frozenSigma(first.apply(v) as tf.Tensor, sigma))) as tf.Tensor;
      const target = tf.oneHot(tf.tensor1d([1, 0, 1], 'int32'), 2);
      return tf.mul(x, tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tail(v), target)))(x));
    });
    await expectLrpZero(model, x, [1, 0, 1], reference);
    x.dispose();
  });

  it('Multiply: a sigmoid gate gets no relevance (LRP-0 = gradient × input with the gate held), two signals share', async () => {
    const input = tfl.input({ shape: [4] });
    const signal = tfl.layers.dense({ units: 5, activation: 'relu', ...noBias, name: 'signal' }).apply(input) as tfl.SymbolicTensor;
    const gate = tfl.layers.dense({ units: 5, activation: 'sigmoid', name: 'gate' }).apply(input) as tfl.SymbolicTensor;
    const gated = tfl.layers.multiply({ name: 'gated' }).apply([signal, gate]) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 2, ...noBias, name: 'out' }).apply(gated) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: logits }), 25, 0.9);
    const x = seededTensor([2, 4], 26, 2);
    const [signalLayer, gateLayer, outLayer] = ['signal', 'gate', 'out'].map((n) => model.getLayer(n));
    const reference = tf.tidy(() => {
      const g = gateLayer.apply(x) as tf.Tensor;
      const f = (v: tf.Tensor) => tf.sum(tf.slice(outLayer.apply(tf.mul(signalLayer.apply(v) as tf.Tensor, g)) as tf.Tensor, [0, 1], [-1, 1]));
      return tf.mul(x, tf.grad(f)(x));
    });
    await expectLrpZero(model, x, [1, 1], reference);
    // Without the 'gates' canonizer both inputs are signals: each gets half of the product's relevance.
    const atProduct = await lrp(model, x, { target: 1, ...lrp0, canonize: ['merge-batch-norm'], layer: 'gated' });
    const atSignal = await lrp(model, x, { target: 1, ...lrp0, canonize: ['merge-batch-norm'], layer: 'signal' });
    const atGate = await lrp(model, x, { target: 1, ...lrp0, canonize: ['merge-batch-norm'], layer: 'gate' });
    const half = tf.div(atProduct, 2);
    await expectClose(atSignal, half, 1e-5);
    await expectClose(atGate, half, 1e-5);
    [x, reference, atProduct, atSignal, atGate, half].forEach((t) => t.dispose());
  });
});

describe('LRP through embeddings, several inputs and explicit input layers', () => {
  it('Embedding: relevance to the embedding vectors (LRP-0 = gradient × embedding) and per token (their sum)', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.embedding({ inputDim: 7, outputDim: 4, inputLength: 5, name: 'embed' }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 6, activation: 'relu', ...noBias }),
          tfl.layers.dense({ units: 3, ...noBias }),
        ],
      }),
      27,
      0.9,
    );
    const tokens = tf.tensor2d([[1, 4, 0, 6, 2], [3, 3, 5, 1, 0]], [2, 5], 'int32');
    const perToken = await expectNoLeak(() => lrp(model, tokens, { target: [2, 0], ...lrp0 }));
    expect(perToken.shape).toEqual([2, 5]);
    const perVector = await lrp(model, tokens, { target: [2, 0], ...lrp0, layer: 'embed' });
    expect(perVector.shape).toEqual([2, 5, 4]);
    const [head1, head2] = [model.layers[2], model.layers[3]];
    const reference = tf.tidy(() => {
      const e = model.layers[0].apply(tokens) as tf.Tensor;
      const target = tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3);
      const f = (v: tf.Tensor) => tf.sum(tf.mul(head2.apply(head1.apply(tf.reshape(v, [2, 20]))) as tf.Tensor, target));
      return tf.mul(e, tf.grad(f)(e));
    });
    await expectClose(perVector, reference, 1e-4);
    const summed = tf.sum(perVector, 2);
    await expectClose(perToken, summed, 1e-5);
    await expectConserved(perToken, chosen(model, tokens, [2, 0]));
    [tokens, perToken, perVector, reference, summed].forEach((t) => t.dispose());
  });

  it('a model with two inputs: one relevance tensor per input, LRP-0 = gradient × input, conserved over both', async () => {
    const a = tfl.input({ shape: [4], name: 'a' });
    const b = tfl.input({ shape: [3], name: 'b' });
    const ha = tfl.layers.dense({ units: 5, activation: 'relu', ...noBias }).apply(a) as tfl.SymbolicTensor;
    const hb = tfl.layers.dense({ units: 5, activation: 'relu', ...noBias }).apply(b) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([ha, hb]) as tfl.SymbolicTensor;
    const both = tfl.layers.concatenate().apply([sum, hb]) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 2, ...noBias }).apply(both) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: [a, b], outputs: logits }), 28, 0.8);
    const xa = seededTensor([3, 4], 29, 2);
    const xb = seededTensor([3, 3], 30, 2);
    await expectFaithful(model, [xa, xb]);
    const relevance = await expectNoLeak(() => lrp(model, [xa, xb], { target: [0, 1, 1], ...lrp0 }));
    expect(relevance.map((r) => r.shape)).toEqual([[3, 4], [3, 3]]);
    const reference = tf.tidy(() => {
      const target = tf.oneHot(tf.tensor1d([0, 1, 1], 'int32'), 2);
      const grads = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(model.apply([u, v]) as tf.Tensor, target)))([xa, xb]);
      return [tf.mul(xa, grads[0]), tf.mul(xb, grads[1])];
    });
    await expectClose(relevance[0], reference[0], 1e-4);
    await expectClose(relevance[1], reference[1], 1e-4);
    await expectConserved(relevance, chosen(model, [xa, xb], [0, 1, 1]));
    await expectRejectsWithoutLeak(() => lrp(model, xa, { target: 0 }), /x: the model has 2 inputs \(a, b\); got one tensor; pass an array with one tensor per input/);
    await expectRejectsWithoutLeak(() => lrp(model, [xa, xa], { target: 0 }), /x\[1\]: expected shape \[any, 3\]/);
    [xa, xb, ...relevance, ...reference].forEach((t) => t.dispose());
  });

  it('a Sequential model starting with an explicit InputLayer', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.inputLayer({ inputShape: [5] }),
          tfl.layers.dense({ units: 6, activation: 'relu', ...noBias }),
          tfl.layers.dense({ units: 3, ...noBias }),
        ],
      }),
      31,
      0.8,
    );
    const x = seededTensor([2, 5], 32, 2);
    await expectLrpZero(model, x, [2, 1]);
    x.dispose();
  });

  it('the pass rule on a layer with several inputs is a clear error naming the alternatives', async () => {
    const input = tfl.input({ shape: [4] });
    const sum = tfl.layers.add({ name: 'sum' }).apply([input, input]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(sum) as tfl.SymbolicTensor });
    const x = seededTensor([2, 4], 33);
    await expectRejectsWithoutLeak(
      () => lrp(model, x, { target: 0, layerRules: { byClass: { Add: rules.pass() } } }),
      /the pass rule cannot serve layer "sum" \(class Add\): it has 2 inputs.*rules\.norm\(\).*rules\.signalTakeAll\(\)/,
    );
    x.dispose();
  });
});

/** Plain-JS float64 linear algebra for the recurrent references. */
const matVec = (v: number[], m: number[][], cols: number[]): number[] => cols.map((c) => v.reduce((s, vi, i) => s + vi * m[i][c], 0));
const range = (start: number, size: number): number[] => Array.from({ length: size }, (_, i) => start + i);
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const stab = (z: number, eps = 1e-6): number => z + eps * (z >= 0 ? 1 : -1);
/** LRP-0 of `z = v·W` over the columns `cols` with relevance `R` per column: relevance per row of `v`. */
function epsilonBack(v: number[], W: number[][], cols: number[], R: number[]): number[] {
  const z = matVec(v, W, cols);
  return v.map((vi, i) => cols.reduce((s, c, k) => s + (z[k] === 0 ? 0 : (vi * W[i][c] * R[k]) / z[k]), 0));
}
/** SignalTakeAll for `gate ⊙ signal`: the signal's share of `R`. */
const signalShare = (gate: number, signal: number, R: number): number => (signal * gate * R) / stab(gate * signal);
/** Norm for `a + b`: the shares of `R`. */
const normShares = (a: number, b: number, R: number): [number, number] => [(a * R) / stab(a + b), (b * R) / stab(a + b)];

async function arrays(t: tf.Tensor): Promise<number[][]> {
  return (await t.array()) as number[][];
}

describe('LRP through recurrent layers (Arras et al. 2017: signal-take-all at the gates)', () => {
  const [N, T, D, U] = [2, 3, 2, 3];
  const x = () => seededTensor([N, T, D], 41, 1.5);

  /** rnn layer (bias-free, sigmoid gates) → Dense(2, bias-free). */
  function recurrentModel(rnn: tfl.layers.Layer, seed: number): tfl.LayersModel {
    return setSeededWeights(tfl.sequential({ layers: [rnn, tfl.layers.dense({ units: 2, ...noBias })] }), seed, 0.9);
  }

  it('SimpleRNN with ReLU (piecewise linear): LRP-0 = gradient × input, conserved', async () => {
    const model = recurrentModel(tfl.layers.simpleRNN({ inputShape: [T, D], units: U, activation: 'relu', ...rnnOptions }), 42);
    const input = x();
    await expectLrpZero(model, input, [0, 1]);
    input.dispose();
  });

  it('LSTM: equals the plain-JS LSTM-LRP reference and conserves the logit', async () => {
    const model = recurrentModel(tfl.layers.lstm({ inputShape: [T, D], units: U, recurrentActivation: 'sigmoid', ...rnnOptions }), 43);
    const input = x();
    await expectFaithful(model, input);
    const relevance = await expectNoLeak(() => lrp(model, input, { target: [1, 0], ...lrp0 }));
    const [kernel, recurrent, out] = await Promise.all(model.getWeights().map(arrays));
    const W = [...kernel, ...recurrent];
    const xs = (await input.array()) as number[][][];
    const expected = xs.map((sequence, n) => {
      const target = [1, 0][n];
      // Forward, float64.
      const hs: number[][] = [new Array(U).fill(0)];
      const cs: number[][] = [new Array(U).fill(0)];
      const gates: { i: number[]; f: number[]; g: number[]; o: number[] }[] = [];
      for (let t = 0; t < T; t++) {
        const v = [...sequence[t], ...hs[t]];
        const z = matVec(v, W, range(0, 4 * U));
        const i = z.slice(0, U).map(sigmoid);
        const f = z.slice(U, 2 * U).map(sigmoid);
        const g = z.slice(2 * U, 3 * U).map(Math.tanh);
        const o = z.slice(3 * U).map(sigmoid);
        const c = range(0, U).map((u) => f[u] * cs[t][u] + i[u] * g[u]);
        hs.push(range(0, U).map((u) => o[u] * Math.tanh(c[u])));
        cs.push(c);
        gates.push({ i, f, g, o });
      }
      // Backward: LRP-0 at the output layer, then per time step.
      let Rh = epsilonBack(hs[T], out, [target], [matVec(hs[T], out, [target])[0]]);
      let Rc = new Array<number>(U).fill(0);
      const Rx: number[][] = [];
      for (let t = T - 1; t >= 0; t--) {
        const { i, f, g, o } = gates[t];
        const c = cs[t + 1];
        const Rcell = range(0, U).map((u) => Rc[u] + signalShare(o[u], Math.tanh(c[u]), Rh[u]));
        const shares = range(0, U).map((u) => normShares(f[u] * cs[t][u], i[u] * g[u], Rcell[u]));
        Rc = range(0, U).map((u) => signalShare(f[u], cs[t][u], shares[u][0]));
        const Rg = range(0, U).map((u) => signalShare(i[u], g[u], shares[u][1]));
        const Rv = epsilonBack([...sequence[t], ...hs[t]], W, range(2 * U, U), Rg);
        Rx.unshift(Rv.slice(0, D));
        Rh = Rv.slice(D);
      }
      return Rx;
    });
    await expectClose(relevance, expected.flat(2), 1e-4);
    await expectConserved(relevance, chosen(model, input, [1, 0]), 1e-4);
    [input, relevance].forEach((t) => t.dispose());
  });

  it('GRU: equals the plain-JS GRU-LRP reference and conserves the logit', async () => {
    const model = recurrentModel(tfl.layers.gru({ inputShape: [T, D], units: U, recurrentActivation: 'sigmoid', ...rnnOptions }), 44);
    const input = x();
    await expectFaithful(model, input);
    const relevance = await expectNoLeak(() => lrp(model, input, { target: [0, 1], ...lrp0 }));
    const [kernel, recurrent, out] = await Promise.all(model.getWeights().map(arrays));
    const xs = (await input.array()) as number[][][];
    const gatesW = [...kernel, ...recurrent];
    const expected = xs.map((sequence, n) => {
      const target = [0, 1][n];
      const hs: number[][] = [new Array(U).fill(0)];
      const steps: { z: number[]; r: number[]; hh: number[]; rh: number[] }[] = [];
      for (let t = 0; t < T; t++) {
        const zr = matVec([...sequence[t], ...hs[t]], gatesW, range(0, 2 * U)).map(sigmoid);
        const z = zr.slice(0, U);
        const r = zr.slice(U);
        const rh = range(0, U).map((u) => r[u] * hs[t][u]);
        const hh = matVec([...sequence[t], ...rh], gatesW, range(2 * U, U)).map(Math.tanh);
        hs.push(range(0, U).map((u) => z[u] * hs[t][u] + (1 - z[u]) * hh[u]));
        steps.push({ z, r, hh, rh });
      }
      let Rh = epsilonBack(hs[T], out, [target], [matVec(hs[T], out, [target])[0]]);
      const Rx: number[][] = [];
      for (let t = T - 1; t >= 0; t--) {
        const { z, r, hh, rh } = steps[t];
        const shares = range(0, U).map((u) => normShares(z[u] * hs[t][u], (1 - z[u]) * hh[u], Rh[u]));
        const carried = range(0, U).map((u) => signalShare(z[u], hs[t][u], shares[u][0]));
        const Rhh = range(0, U).map((u) => signalShare(1 - z[u], hh[u], shares[u][1]));
        const Rv = epsilonBack([...sequence[t], ...rh], gatesW, range(2 * U, U), Rhh);
        const throughReset = range(0, U).map((u) => signalShare(r[u], hs[t][u], Rv[D + u]));
        Rx.unshift(Rv.slice(0, D));
        Rh = range(0, U).map((u) => carried[u] + throughReset[u]);
      }
      return Rx;
    });
    await expectClose(relevance, expected.flat(2), 1e-4);
    await expectConserved(relevance, chosen(model, input, [0, 1]), 1e-4);
    [input, relevance].forEach((t) => t.dispose());
  });

  it('Bidirectional LSTM (concat and sum, returning sequences) and TimeDistributed Dense: faithful and conserved', async () => {
    for (const mergeMode of ['concat', 'sum'] as const) {
      const model = setSeededWeights(
        tfl.sequential({
          layers: [
            tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: U, returnSequences: true, ...rnnOptions }) as tfl.RNN, mergeMode, inputShape: [T, D] }),
            tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 2, activation: 'relu', ...noBias }) }),
            tfl.layers.flatten(),
            tfl.layers.dense({ units: 2, ...noBias }),
          ],
        }),
        45,
        0.9,
      );
      const input = x();
      await expectFaithful(model, input);
      const relevance = await expectNoLeak(() => lrp(model, input, { target: [1, 1], ...lrp0 }));
      await expectConserved(relevance, chosen(model, input, [1, 1]), 1e-4);
      [input, relevance].forEach((t) => t.dispose());
    }
  });

  it('TimeDistributed with a piecewise-linear layer: LRP-0 = gradient × input', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 4, activation: 'relu', ...noBias }), inputShape: [T, D] }),
          tfl.layers.globalAveragePooling1d(),
          tfl.layers.dense({ units: 2, ...noBias }),
        ],
      }),
      46,
      0.9,
    );
    const input = x();
    await expectLrpZero(model, input, [0, 1]);
    input.dispose();
  });
});
