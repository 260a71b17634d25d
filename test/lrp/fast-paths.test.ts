/**
 * The LRP executor's fast paths against its general path, on small random layers with weights, biases
 * and inputs of both signs: the rules' forms for non-negative inputs (ZPlus, AlphaBeta and Gamma
 * without their x⁻ branches) against the full rules, the explicit transposes of linear steps against
 * `tf.grads` of their forward passes, AlphaBeta, ZPlus and Gamma with their branch outputs derived
 * by linearity against Zennit's branches (each its own forward pass), the structural analysis that picks the forms, and the per-step
 * freeing of tensors where relevance is shared (pass rules, identity layers, fan-out).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../src/attribution/lrp/graph';
import { conv2dForward } from '../../src/attribution/lrp/convolution-forward';
import { addAll, signOf } from '../../src/attribution/lrp/elementwise';
import { transposeOfConv2d, transposeOfDense, type ConvPadding } from '../../src/attribution/lrp/linear-transposes';
import type { Step } from '../../src/attribution/lrp/program';
import { forwardValues, propagateRelevance } from '../../src/attribution/lrp/propagate';
import { keepInput, keepParameters, withBackendGapFixesSync } from '../../src/advanced';
import { composites, gradientXInput, lrp, rules, type BasicRule, type Composite, type LrpOptions } from '../../src/index';
import { expectClose, expectNoLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';

/** Conv (signed input) → ReLU → zero padding → depthwise ×2 → ReLU6 → max pooling, concatenated with a ReLU branch → 1×1 conv → ReLU → flatten → dense → ReLU → dense. */
function signedThenRectified(): tfl.LayersModel {
  const input = tfl.input({ shape: [7, 7, 3] });
  const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'first' }).apply(input) as tfl.SymbolicTensor;
  const padded = tfl.layers.zeroPadding2d({ padding: 1 }).apply(a) as tfl.SymbolicTensor;
  const d = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, name: 'depthwise' }).apply(padded) as tfl.SymbolicTensor;
  const d6 = tfl.layers.reLU({ maxValue: 6 }).apply(d) as tfl.SymbolicTensor;
  const pooled = tfl.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(d6) as tfl.SymbolicTensor;
  const side = tfl.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'side' }).apply(a) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([pooled, side]) as tfl.SymbolicTensor;
  const p = tfl.layers.conv2d({ filters: 5, kernelSize: 1, activation: 'relu', name: 'pointwise' }).apply(joined) as tfl.SymbolicTensor;
  const h = tfl.layers.dense({ units: 6, activation: 'relu', name: 'hidden' }).apply(tfl.layers.flatten().apply(p)) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, name: 'logits' }).apply(h) as tfl.SymbolicTensor;
  return setSeededWeights(tfl.model({ inputs: input, outputs: out }), 31, 0.6);
}

/** The rule without its form for non-negative inputs: the executor's general path. */
const general = (rule: BasicRule): BasicRule => ({ ...rule, nonNegativeInput: undefined });
/** The rule exactly as its branches are written: no form for non-negative inputs, none for steps with parameters. */
const asWritten = (rule: BasicRule): BasicRule => ({ ...rule, nonNegativeInput: undefined, withParameters: undefined });
/** The form a step with parameters runs for `rule` on non-negative inputs. */
const nonNegativeForm = (rule: BasicRule): BasicRule => rule.nonNegativeInput!.withParameters ?? rule.nonNegativeInput!;

const RECTIFIED_LAYERS = ['depthwise', 'side', 'pointwise', 'hidden', 'logits'];

describe('LRP rule forms for non-negative inputs', () => {
  const model = signedThenRectified();
  const x = seededTensor([2, 7, 7, 3], 32, 1.5);

  for (const [name, rule] of [
    ['zPlus', rules.zPlus()],
    ['alphaBeta(2, 1)', rules.alphaBeta({ alpha: 2, beta: 1 })],
    ['alphaBeta(3, 2)', rules.alphaBeta({ alpha: 3, beta: 2 })],
    ['gamma(0.25)', rules.gamma({ gamma: 0.25 })],
  ] as [string, BasicRule][]) {
    it(`${name}: serves every layer after a ReLU (not the first) and equals the full rule`, async () => {
      const composite = composites.custom({ kinds: { conv: rule, dense: rule } });
      const program = compileProgram(model, { composite, canonize: true });
      const linear = program.steps.filter((s) => s.parameters !== null);
      expect(linear.filter((s) => s.rule === nonNegativeForm(rule)).map((s) => s.name)).toEqual(RECTIFIED_LAYERS);
      expect(linear.find((s) => s.name === 'first')!.rule).toBe(rule.withParameters ?? rule);
      program.dispose();
      const fast = await expectNoLeak(() => lrp(model, x, { target: [0, 2], composite }));
      const full = await lrp(model, x, { target: [0, 2], composite: composites.custom({ kinds: { conv: general(rule), dense: general(rule) } }) });
      const written = await lrp(model, x, { target: [0, 2], composite: composites.custom({ kinds: { conv: asWritten(rule), dense: asWritten(rule) } }) });
      await expectClose(fast, full, 1e-6);
      await expectClose(fast, written, 1e-6);
      // Not vacuous: relevance reaches most inputs.
      expect((await fast.data()).filter((v) => v !== 0).length).toBeGreaterThan(x.size / 2);
      [fast, full, written].forEach((t) => t.dispose());
    });
  }

  it('is chosen only where the structure proves the input non-negative', () => {
    const input = tfl.input({ shape: [4] });
    const relu = tfl.layers.dense({ units: 5, activation: 'relu', name: 'relu' }).apply(input) as tfl.SymbolicTensor;
    const leaky = tfl.layers.leakyReLU().apply(tfl.layers.dense({ units: 5, name: 'leaky' }).apply(input)) as tfl.SymbolicTensor;
    const normed = tfl.layers.batchNormalization().apply(relu) as tfl.SymbolicTensor;
    const heads = [
      ['afterRelu', relu],
      ['afterLeaky', leaky],
      ['afterNorm', normed],
      ['afterMixed', tfl.layers.concatenate().apply([relu, input]) as tfl.SymbolicTensor],
      ['afterSoftmax', tfl.layers.softmax().apply(leaky) as tfl.SymbolicTensor],
    ].map(([name, t]) => tfl.layers.dense({ units: 2, name: name as string }).apply(t as tfl.SymbolicTensor) as tfl.SymbolicTensor);
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: tfl.layers.add().apply(heads) as tfl.SymbolicTensor }), 33);
    const rule = rules.zPlus();
    const program = compileProgram(model, { composite: composites.custom({ kinds: { dense: rule } }), canonize: false });
    const forms = Object.fromEntries(program.steps.filter((s) => s.parameters !== null).map((s) => [s.name, s.rule === nonNegativeForm(rule)]));
    expect(forms).toEqual({ relu: false, leaky: false, afterRelu: true, afterLeaky: false, afterNorm: false, afterMixed: false, afterSoftmax: true });
    program.dispose();
    model.dispose();
  });
});

const zennitStabilize = (z: tf.Tensor) => tf.add(z, tf.mul(tf.where(tf.greaterEqual(z, 0), tf.onesLike(z), tf.fill(z.shape, -1)), 1e-6));
const noBias = (modify: (p: tf.Tensor) => tf.Tensor) => (p: tf.Tensor, role: string) => (role === 'bias' ? tf.zerosLike(p) : modify(p));

/**
 * Zennit's AlphaBeta as it writes it (four branches: x⁺ with W⁺, b⁺ and x⁻ with W⁻ for z_α; x⁺ with
 * W⁻, b⁻ and x⁻ with W⁺ for z_β), every branch its own forward pass; `alpha: 1, beta: 0` is ZPlus
 * (whose z_β branches then carry no weight).
 */
function zennitAlphaBeta(alpha: number, beta: number): BasicRule {
  const pos = (p: tf.Tensor) => tf.relu(p);
  const neg = (p: tf.Tensor) => tf.minimum(p, 0);
  return {
    kind: 'basic',
    name: 'zennit-alpha-beta',
    inputModifiers: [pos, neg, pos, neg],
    parameterModifiers: [pos, noBias(neg), neg, noBias(pos)],
    gradientMapper: (r, [a0, a1, b0, b1]) => {
      const rAlpha = tf.div(r, zennitStabilize(tf.add(a0, a1)));
      const rBeta = tf.div(r, zennitStabilize(tf.add(b0, b1)));
      return [rAlpha, rAlpha, rBeta, rBeta];
    },
    reducer: (x, v) =>
      tf.sub(tf.mul(tf.add(tf.mul(x[0], v[0]!), tf.mul(x[1], v[1]!)), alpha), tf.mul(tf.add(tf.mul(x[2], v[2]!), tf.mul(x[3], v[3]!)), beta)),
  };
}

/**
 * How many times each linear step's forward pass runs when `composite`'s program propagates relevance
 * through `model` once (the program's own forward pass included), by step name.
 */
function forwardPasses(model: tfl.LayersModel, x: tf.Tensor, composite: Composite): Record<string, number> {
  const program = compileProgram(model, { composite, canonize: true });
  const counts: Record<string, number> = {};
  for (const step of program.steps.filter((s) => s.parameters !== null)) {
    const forward = step.forward;
    step.forward = (inputs, parameters) => {
      counts[step.name] = (counts[step.name] ?? 0) + 1;
      return forward(inputs, parameters);
    };
  }
  withBackendGapFixesSync(() =>
    tf.tidy(() => {
      const values = forwardValues(program, x);
      propagateRelevance(program, values, tf.onesLike(values[program.output]), program.inputs);
    }),
  );
  program.dispose();
  return counts;
}

describe('LRP branch outputs by linearity', () => {
  const model = signedThenRectified();
  const x = seededTensor([2, 7, 7, 3], 32, 1.5);

  for (const [name, rule, reference] of [
    ['alphaBeta(2, 1)', rules.alphaBeta({ alpha: 2, beta: 1 }), zennitAlphaBeta(2, 1)],
    ['alphaBeta(3, 2)', rules.alphaBeta({ alpha: 3, beta: 2 }), zennitAlphaBeta(3, 2)],
    ['zPlus', rules.zPlus(), zennitAlphaBeta(1, 0)],
  ] as [string, BasicRule, BasicRule][]) {
    it(`${name}: one modified forward pass per layer (z and |W||x| + |b|, or z_α), the relevance of Zennit's branches`, async () => {
      const composite = composites.custom({ kinds: { conv: rule, dense: rule } });
      const zennit = composites.custom({ kinds: { conv: reference, dense: reference } });
      const options: LrpOptions = { target: [0, 2], composite };
      const fast = await expectNoLeak(() => lrp(model, x, options));
      const full = await lrp(model, x, { ...options, composite: zennit });
      await expectClose(fast, full, 1e-5);
      expect((await fast.data()).filter((v) => v !== 0).length).toBeGreaterThan(x.size / 2);
      const steps = ['first', 'depthwise', 'side', 'pointwise', 'hidden', 'logits'];
      expect(forwardPasses(model, x, composite)).toEqual(Object.fromEntries(steps.map((step) => [step, 2])));
      expect(forwardPasses(model, x, zennit)).toEqual(Object.fromEntries(steps.map((step) => [step, 5])));
      [fast, full].forEach((t) => t.dispose());
    });
  }

  it('equals Zennit where a sum of same-sign contributions is exactly 0 (z_β = 0, z_α = 0, a zero input)', async () => {
    // Unit 0 has only positive weights and bias (z_β = 0 on non-negative rows), unit 1 only negative ones
    // (z_α = 0 there), unit 2 both; the rows: non-negative, signed, all zero.
    const input = tfl.input({ shape: [3] });
    const hidden = tfl.layers.dense({ units: 3, name: 'hidden' });
    const out = tfl.layers.dense({ units: 1, name: 'out', useBias: false });
    const net = tfl.model({ inputs: input, outputs: out.apply(hidden.apply(input)) as tfl.SymbolicTensor });
    hidden.setWeights([tf.tensor2d([[0.5, -0.4, 0.3], [1.5, -0.2, -0.7], [0.25, -1.1, 0.9]]), tf.tensor1d([0.1, -0.2, 0])]);
    out.setWeights([tf.tensor2d([[1], [-0.5], [0.75]])]);
    const v = tf.tensor2d([[1, 2, 0.5], [0, 3, 1], [-1, 2, 0.5], [0, 0, 0]]);
    for (const [rule, reference] of [
      [rules.alphaBeta({ alpha: 2, beta: 1 }), zennitAlphaBeta(2, 1)],
      [rules.zPlus(), zennitAlphaBeta(1, 0)],
    ] as [BasicRule, BasicRule][]) {
      const ours = await lrp(net, v, { target: 0, composite: composites.custom({ kinds: { dense: rule } }) });
      const theirs = await lrp(net, v, { target: 0, composite: composites.custom({ kinds: { dense: reference } }) });
      await expectClose(ours, theirs, 1e-6);
      expect(Array.from(await ours.data()).every(Number.isFinite)).toBe(true);
      [ours, theirs].forEach((t) => t.dispose());
    }
    v.dispose();
    net.dispose();
  });

  it('runs every branch on parameter-free steps (ZPlus on an Add: with no weight to modify, its branches sum to z, not to Σ x⁺)', async () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [3] });
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(sum) as tfl.SymbolicTensor;
    const net = setSeededWeights(tfl.model({ inputs: [a, b], outputs: out }), 37);
    const xs = [seededTensor([2, 3], 38, 1), seededTensor([2, 3], 39, 1)];
    const zPlus = rules.zPlus();
    const zennit = zennitAlphaBeta(1, 0);
    const ours = (await lrp(net, xs, { target: 1, composite: composites.custom({ kinds: { dense: rules.epsilon() }, byClass: { Add: zPlus } }) })) as tf.Tensor[];
    const theirs = (await lrp(net, xs, { target: 1, composite: composites.custom({ kinds: { dense: rules.epsilon() }, byClass: { Add: zennit } }) })) as tf.Tensor[];
    for (let k = 0; k < 2; k++) await expectClose(ours[k], theirs[k], 1e-6);
    [...ours, ...theirs, ...xs].forEach((t) => t.dispose());
    net.dispose();
  });
});

/**
 * Zennit's Gamma rule as it writes it (five branches: x⁺ and x⁻ with W^{+γ} and W^{−γ}, the layer
 * itself for the sign of z), for {@link rules}.gamma's two-branch form to be checked against.
 */
function zennitGamma(g: number): BasicRule {
  const plus = (p: tf.Tensor) => tf.add(p, tf.mul(tf.relu(p), g));
  const minus = (p: tf.Tensor) => tf.add(p, tf.mul(tf.minimum(p, 0), g));
  const s = zennitStabilize;
  return {
    kind: 'basic',
    name: 'zennit-gamma',
    inputModifiers: [(x) => tf.relu(x), (x) => tf.minimum(x, 0), (x) => tf.relu(x), (x) => tf.minimum(x, 0), keepInput],
    parameterModifiers: [plus, noBias(minus), minus, noBias(plus), keepParameters],
    gradientMapper: (r, [p0, p1, n0, n1, z]) => {
      const positive = tf.div(tf.mul(r, tf.cast(tf.greater(z, 0), 'float32')), s(tf.add(p0, p1)));
      const negative = tf.div(tf.mul(r, tf.cast(tf.less(z, 0), 'float32')), s(tf.add(n0, n1)));
      return [positive, positive, negative, negative, null];
    },
    reducer: (inputs, v) => [0, 1, 2, 3].map((k) => tf.mul(inputs[k], v[k]!)).reduce((a, b) => tf.add(a, b)),
  };
}

describe('Gamma in two branches', () => {
  const model = signedThenRectified();
  const x = seededTensor([2, 7, 7, 3], 32, 1.5);

  for (const g of [0.25, 1]) {
    it(`gamma(${g}) equals Zennit's five-branch form on signed and rectified inputs, with one modified forward pass`, async () => {
      const rule = rules.gamma({ gamma: g });
      const options: LrpOptions = { target: [0, 2], composite: composites.custom({ kinds: { conv: rule, dense: rule } }) };
      const reference: LrpOptions = { ...options, composite: composites.custom({ kinds: { conv: zennitGamma(g), dense: zennitGamma(g) } }) };
      const fast = await expectNoLeak(() => lrp(model, x, options));
      const zennit = await lrp(model, x, reference);
      await expectClose(fast, zennit, 1e-5);
      expect((await fast.data()).filter((v) => v !== 0).length).toBeGreaterThan(x.size / 2);
      // One modified forward pass per linear step instead of four.
      const steps = ['first', 'depthwise', 'side', 'pointwise', 'hidden', 'logits'];
      expect(forwardPasses(model, x, options.composite as Composite)).toEqual(Object.fromEntries(steps.map((name) => [name, 2])));
      expect(forwardPasses(model, x, reference.composite as Composite)).toEqual(Object.fromEntries(steps.map((name) => [name, 5])));
      [fast, zennit].forEach((t) => t.dispose());
    });
  }

  it('gamma(0) with ε = 0 is LRP-0, zero pre-activations included', async () => {
    const input = tfl.input({ shape: [4] });
    const hidden = tfl.layers.dense({ units: 3, activation: 'relu', useBias: false, name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
    const small = setSeededWeights(tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, name: 'out' }).apply(hidden) as tfl.SymbolicTensor }), 35);
    // The second row is 0: every pre-activation of 'hidden' is 0 there.
    const v = tf.concat([seededTensor([1, 4], 36, 1), tf.zeros([1, 4])]);
    const gamma0 = rules.gamma({ gamma: 0, epsilon: 0 });
    const relevance = await lrp(small, v, { target: 1, composite: composites.custom({ kinds: { dense: gamma0 } }) });
    const lrp0 = await lrp(small, v, { target: 1, composite: composites.custom({ kinds: { dense: rules.epsilon({ epsilon: 0 }) } }) });
    await expectClose(relevance, lrp0, 1e-6);
    expect(Array.from(await relevance.data()).every(Number.isFinite)).toBe(true);
    [relevance, lrp0, v].forEach((t) => t.dispose());
    small.dispose();
  });
});

/**
 * A depthwise convolution (filter `[kh, kw, C, M]`, output channel `c·M + m`) as the full convolution
 * with the block-diagonal filter `[kh, kw, C, C·M]`, whose gradient every backend has.
 */
function asFullConvolution(step: Step): (v: tf.Tensor) => tf.Tensor {
  const [kh, kw, channels, multiplier] = step.parameters!.weight.shape;
  const config = step.layer!.getConfig();
  const strides = config.strides as [number, number];
  const filter = tf.reshape(
    tf.mul(tf.reshape(step.parameters!.weight, [kh, kw, channels, 1, multiplier]), tf.reshape(tf.eye(channels), [1, 1, channels, channels, 1])),
    [kh, kw, channels, channels * multiplier],
  ) as tf.Tensor4D;
  return (v) => tf.conv2d(v as tf.Tensor4D, filter, strides, config.padding as 'same');
}

describe('the forward convolution of linear steps', () => {
  it('equals tf.conv2d (plus the bias) for pointwise filters (a transposed convolution on cpu from 128 positions on) and any other geometry', async () => {
    // 144 and 20 positions: above and below the size from which cpu swaps the filter.
    for (const shape of [[2, 9, 8, 6], [1, 5, 4, 6]]) {
      const x = seededTensor(shape, 48, 1) as tf.Tensor4D;
      const cases: [number[], [number, number], 'same' | 'valid', [number, number]][] = [
        [[1, 1, 6, 7], [1, 1], 'same', [1, 1]],
        [[1, 1, 6, 5], [1, 1], 'valid', [1, 1]],
        [[1, 1, 6, 3], [2, 2], 'same', [1, 1]],
        [[3, 3, 6, 2], [1, 1], 'same', [1, 1]],
        [[2, 2, 6, 2], [1, 1], 'valid', [2, 2]],
      ];
      for (const [filterShape, strides, padding, dilations] of cases) {
        const weight = seededTensor(filterShape, 49, 1) as tf.Tensor4D;
        const bias = seededTensor([filterShape[3]], 50, 1);
        for (const b of [null, bias]) {
          const ours = conv2dForward(x, weight, b, strides, padding, dilations);
          const cached = withBackendGapFixesSync(() => conv2dForward(x, weight, b, strides, padding, dilations), { constants: [weight] });
          const convolved = tf.conv2d(x, weight, strides, padding, 'NHWC', dilations);
          const reference = b === null ? convolved : tf.add(convolved, b);
          await expectClose(ours, reference, 1e-5);
          await expectClose(cached, reference, 1e-5);
          tf.dispose([ours, cached, convolved, reference]);
        }
        tf.dispose([weight, bias]);
      }
      x.dispose();
    }
  });
});

describe("element-wise sums and signs in each backend's fastest form", () => {
  it('addAll equals the sum in order (with and without a constant) and signOf equals tf.sign, zeros of both signs included', async () => {
    const values = [-2.5, -0, 0, 1e-30, -1e-30, 3, 7.25, -1];
    const [a, b, c] = [values, values.map((v) => v * 3 + 0.5), values.map((v) => -v / 7)].map((v) => tf.tensor2d(v, [2, 4]));
    await expectNoLeak(async () => {
      expect(addAll([a])).toBe(a);
      const sums = tf.tidy(() => [addAll([a, b]), addAll([a, b, c]), addAll([a, b], 1e-6), addAll([a], 0.25)]);
      const references = tf.tidy(() => [tf.add(a, b), tf.add(tf.add(a, b), c), tf.add(tf.add(a, b), 1e-6), tf.add(a, 0.25)]);
      for (let i = 0; i < sums.length; i++) expect(Array.from(await sums[i].data())).toEqual(Array.from(await references[i].data()));
      const sign = tf.tidy(() => signOf(a));
      expect(Array.from(await sign.data())).toEqual([-1, 0, 0, 1, -1, 1, 1, -1]);
      tf.dispose([...sums, ...references, sign]);
    });
    tf.dispose([a, b, c]);
  });
});

describe('explicit transposes of linear steps', () => {
  /**
   * `step.transpose(dy)` against `tf.grads` of the step's forward pass at the step's input value (of
   * the equivalent full convolution for depthwise steps).
   */
  async function checkTransposes(model: tfl.LayersModel, x: tf.Tensor, expectedSteps: number): Promise<void> {
    const program = compileProgram(model, { composite: composites.epsilon(), canonize: false });
    const linear = program.steps.filter((s) => s.transpose !== undefined);
    expect(linear.length).toBe(expectedSteps);
    const pairs = tf.tidy(() => {
      const values = forwardValues(program, x);
      return linear.map((step, k) => {
        const input = values[step.inputs[0]];
        const dy = seededTensor(values[step.output].shape, 40 + k, 1);
        const fast = step.transpose!(dy, step.parameters!, input.shape);
        const depthwise = step.className === 'DepthwiseConv2D' || step.label.endsWith('/depthwise');
        const forward = depthwise ? asFullConvolution(step) : (v: tf.Tensor) => step.forward([v], step.parameters);
        // Inside the scope: the gradient of a fused convolution takes its filter's too, which wasm lacks.
        const [taped] = withBackendGapFixesSync(() => tf.grads(forward)([input], dy));
        return [fast, taped];
      });
    });
    for (const [fast, taped] of pairs) await expectClose(fast, taped, 1e-5);
    pairs.flat().forEach((t) => t.dispose());
    program.dispose();
  }

  it('Conv2D (strided, valid and same), DepthwiseConv2D (multiplier 2, strided), SeparableConv2D', async () => {
    const model = setSeededWeights(
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [9, 8, 3], filters: 4, kernelSize: [3, 2], strides: 2, padding: 'valid' }),
          tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: [1, 2], padding: 'same' }),
          tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
          tfl.layers.separableConv2d({ filters: 2, kernelSize: 2, padding: 'same' }),
        ],
      }),
      41,
    );
    const x = seededTensor([2, 9, 8, 3], 42, 1);
    await checkTransposes(model, x, 5);
    x.dispose();
    model.dispose();
  });

  it('Dense on vectors and on sequences (last axis)', async () => {
    const model = setSeededWeights(
      tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5, 4], units: 3 }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] }),
      43,
    );
    const x = seededTensor([2, 5, 4], 44, 1);
    await checkTransposes(model, x, 2);
    x.dispose();
    model.dispose();
  });

  it("dilated filters, explicit paddings and stored-transposed weights (a GraphModel's Conv2D and MatMul)", async () => {
    const padding: ConvPadding = [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ];
    const [fast, taped, fastDense, tapedDense, fastDilated, tapedDilated] = tf.tidy(() => {
      const x = seededTensor([2, 6, 5, 3], 45, 1);
      const weight = seededTensor([3, 2, 3, 4], 46, 1);
      const conv = (v: tf.Tensor) => tf.conv2d(v as tf.Tensor4D, weight as tf.Tensor4D, [2, 1], padding, 'NHWC');
      const dy = seededTensor(conv(x).shape, 47, 1);
      const a = transposeOfConv2d([2, 1], padding, [1, 1])(dy, { weight, bias: null }, x.shape);
      const [b] = tf.grads(conv)([x], dy);
      // Dilation 2: the reference convolves with the filter spread out by zeros (tfjs has no dilated gradient).
      const dilated = (v: tf.Tensor) => tf.conv2d(v as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same', 'NHWC', 2);
      const spread = tf.tidy(() => {
        const row = (i: number) => tf.slice(weight, [i], [1]);
        const zeroRow = tf.zerosLike(row(0));
        const rows = tf.concat([row(0), zeroRow, row(1), zeroRow, row(2)], 0);
        const column = (j: number) => tf.slice(rows, [0, j], [5, 1]);
        return tf.concat([column(0), tf.zerosLike(column(0)), column(1)], 1);
      });
      const dyDilated = seededTensor(dilated(x).shape, 51, 1);
      const e = transposeOfConv2d([1, 1], 'same', [2, 2])(dyDilated, { weight, bias: null }, x.shape);
      const [f] = tf.grads((v: tf.Tensor) => tf.conv2d(v as tf.Tensor4D, spread as tf.Tensor4D, 1, 'same'))([x], dyDilated);
      const v = seededTensor([3, 4], 48, 1);
      const stored = seededTensor([5, 4], 49, 1); // [units, inputs]: x · Wᵀ
      const dense = (u: tf.Tensor) => tf.matMul(u, stored, false, true);
      const dyDense = seededTensor([3, 5], 50, 1);
      const c = transposeOfDense(true)(dyDense, { weight: stored, bias: null }, v.shape);
      const [d] = tf.grads(dense)([v], dyDense);
      return [a, b, c, d, e, f];
    });
    await expectClose(fast, taped, 1e-5);
    await expectClose(fastDense, tapedDense, 1e-5);
    await expectClose(fastDilated, tapedDilated, 1e-5);
    [fast, taped, fastDense, tapedDense, fastDilated, tapedDilated].forEach((t) => t.dispose());
  });
});

describe('shared relevance is freed exactly once', () => {
  it('pass rules, an identity layer and fan-out: LRP-0 = gradient × input, the relevance at a layer, no leak', async () => {
    const input = tfl.input({ shape: [5] });
    const hidden = tfl.layers.dense({ units: 6, activation: 'relu', useBias: false, name: 'hidden' }).apply(input) as tfl.SymbolicTensor;
    const kept = tfl.layers.dropout({ rate: 0.3, name: 'kept' }).apply(hidden) as tfl.SymbolicTensor;
    const heads = [1, 2, 3].map((k) => tfl.layers.dense({ units: 4, activation: k < 3 ? 'relu' : 'linear', useBias: false }).apply(kept) as tfl.SymbolicTensor);
    const sum = tfl.layers.add().apply(heads) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, useBias: false }).apply(sum) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: out }), 51, 0.7);
    const x = seededTensor([3, 5], 52, 1.5);
    const options: LrpOptions = { target: [0, 1, 2], composite: 'epsilon', epsilon: 0 };
    const relevance = await expectNoLeak(() => lrp(model, x, options));
    const reference = await gradientXInput(model, x, { target: [0, 1, 2] });
    await expectClose(relevance, reference, 1e-4);
    // The dropout (identity) passes relevance on unchanged, and so does the fused ReLU before it.
    const atKept = await expectNoLeak(() => lrp(model, x, { ...options, layer: 'kept' }));
    const atHidden = await expectNoLeak(() => lrp(model, x, { ...options, layer: 'hidden' }));
    await expectClose(atHidden, atKept, 1e-6);
    [relevance, reference, atKept, atHidden, x].forEach((t) => t.dispose());
    model.dispose();
  });
});
