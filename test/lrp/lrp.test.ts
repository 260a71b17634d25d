/** lrp(): published vectors, composites, options, relevance at a layer, custom layers, errors and leaks. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { composites, gradientXInput, lrp, registerLrpLayer, rules, type Composite, type Rule } from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { convReluNet, denseReluNet, residualNet } from './models';

async function sumPerExample(t: tf.Tensor): Promise<Float32Array> {
  const sums = tf.tidy(() => tf.sum(tf.reshape(t, [t.shape[0], -1]), 1));
  const values = (await sums.data()) as Float32Array;
  sums.dispose();
  return values;
}

describe("Captum's published LRP vectors", () => {
  // x = [1, 2, 3], Dense(3→3, no bias, weights 2), ReLU, Dense(3→1, no bias, weights 3).
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [3], units: 3, useBias: false, activation: 'relu', kernelInitializer: tfl.initializers.constant({ value: 2 }) }),
      tfl.layers.dense({ units: 1, useBias: false, kernelInitializer: tfl.initializers.constant({ value: 3 }) }),
    ],
  });
  afterAll(() => model.dispose());

  it("'epsilon' gives [18, 36, 54]; with kernel[0][0] = −2, 'zplus' gives [12, 33.6, 50.4]", async () => {
    const x = tf.tensor2d([[1, 2, 3]]);
    const epsilon = await expectNoLeak(() => lrp(model, x, { composite: 'epsilon' }));
    await expectClose(epsilon, [18, 36, 54], 1e-6);
    const kernel = tf.tensor2d([[-2, 2, 2], [2, 2, 2], [2, 2, 2]]);
    model.layers[0].setWeights([kernel]);
    const zPlus = await expectNoLeak(() => lrp(model, x, { composite: 'zplus' }));
    await expectClose(zPlus, [12, 33.6, 50.4], 1e-6);
    // Zennit's start: relevance 1 at the output instead of f(x) = 96.
    const fromOne = await lrp(model, x, { composite: 'zplus', startFrom: 'one' });
    await expectClose(fromOne, [12 / 96, 33.6 / 96, 50.4 / 96], 1e-6);
    [x, epsilon, kernel, zPlus, fromOne].forEach((t) => t.dispose());
  });
});

describe('composites', () => {
  const conv = convReluNet();
  const dense = denseReluNet();
  const convNames = conv.layers.filter((l) => /Conv/.test(l.getClassName())).map((l) => l.name);
  const denseName = conv.layers.find((l) => l.getClassName() === 'Dense')!.name;
  const image = seededTensor([2, 8, 8, 2], 51, 1.5);
  afterAll(() => image.dispose());

  const eps = rules.epsilon({ epsilon: 0.01 });
  const box = rules.zBox({ low: -1.5, high: 1.5 });
  const ab = rules.alphaBeta({ alpha: 2, beta: 1 });
  // The documented rule of every linear layer of convReluNet: [first conv, depthwise, conv], dense.
  const documented: [string, Parameters<typeof lrp>[2], Rule[], Rule][] = [
    ['epsilon', { epsilon: 0.01 }, [eps, eps, eps], eps],
    ['zplus', {}, [rules.zPlus(), rules.zPlus(), rules.zPlus()], rules.zPlus()],
    ['alpha2-beta1', {}, [ab, ab, ab], ab],
    ['epsilon-plus', { epsilon: 0.01 }, [rules.zPlus(), rules.zPlus(), rules.zPlus()], eps],
    ['epsilon-alpha2-beta1', { epsilon: 0.01 }, [ab, ab, ab], eps],
    ['epsilon-plus-flat', { epsilon: 0.01 }, [rules.flat(), rules.zPlus(), rules.zPlus()], eps],
    ['epsilon-alpha2-beta1-flat', { epsilon: 0.01 }, [rules.flat(), ab, ab], eps],
    ['epsilon-gamma-box', { epsilon: 0.01, low: -1.5, high: 1.5 }, [box, rules.gamma(), rules.gamma()], eps],
  ];

  for (const [name, settings, convRules, denseRule] of documented) {
    it(`'${name}' gives every layer its documented rule (first layer included)`, async () => {
      const byName = Object.fromEntries([...convNames.map((n, i) => [n, convRules[i]]), [denseName, denseRule]]);
      const explicit = composites.custom({ byName });
      const named = await lrp(conv, image, { target: 1, composite: name as 'epsilon', ...settings });
      const reference = await lrp(conv, image, { target: 1, composite: explicit });
      await expectClose(named, reference, 1e-6);
      named.dispose();
      reference.dispose();
    });
  }

  it('the first-layer rule applies to the first Dense when the network starts with one (Flat), not ZBox', async () => {
    const x = seededTensor([2, 6], 52, 2);
    const names = dense.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.name);
    const plusFlat = await lrp(dense, x, { target: 0, composite: 'epsilon-plus-flat' });
    const flatFirst = await lrp(dense, x, {
      target: 0,
      composite: composites.custom({ byName: { [names[0]]: rules.flat(), [names[1]]: rules.epsilon(), [names[2]]: rules.epsilon() } }),
    });
    await expectClose(plusFlat, flatFirst, 1e-6);
    const gammaBox = await lrp(dense, x, { target: 0, composite: 'epsilon-gamma-box', low: -2, high: 2 });
    const epsilonOnly = await lrp(dense, x, { target: 0, composite: 'epsilon' });
    await expectClose(gammaBox, epsilonOnly, 1e-6);
    const plain = await lrp(dense, x, { target: 0, composite: 'epsilon-plus' });
    expect(Math.abs((await sumPerExample(tf.abs(tf.sub(plain, plusFlat))))[0])).toBeGreaterThan(1e-3);
    [x, plusFlat, flatFirst, gammaBox, epsilonOnly, plain].forEach((t) => t.dispose());
  });

  it('constructors equal the named strings, and layerRules override by name and by class', async () => {
    const fromString = await lrp(conv, image, { target: 2, composite: 'epsilon-plus-flat', epsilon: 0.1 });
    const fromConstructor = await lrp(conv, image, { target: 2, composite: composites.epsilonPlusFlat({ epsilon: 0.1 }) });
    await expectClose(fromConstructor, fromString, 1e-6);
    const overridden = await lrp(conv, image, {
      target: 2,
      composite: 'epsilon-plus',
      layerRules: { byClass: { DepthwiseConv2D: rules.epsilon() }, byName: { [convNames[0]]: rules.flat() } },
    });
    const explicit = await lrp(conv, image, {
      target: 2,
      composite: composites.custom({
        byName: { [convNames[0]]: rules.flat(), [convNames[1]]: rules.epsilon(), [convNames[2]]: rules.zPlus(), [denseName]: rules.epsilon() },
      }),
    });
    await expectClose(overridden, explicit, 1e-6);
    [fromString, fromConstructor, overridden, explicit].forEach((t) => t.dispose());
  });
});

describe('lrp options', () => {
  const model = denseReluNet(7);
  const x = seededTensor([3, 6], 61, 2);
  afterAll(() => x.dispose());

  it('does not depend on batchSize and reports progress', async () => {
    const progress: number[] = [];
    const small = await lrp(model, x, { target: [0, 1, 2], batchSize: 1, onProgress: (done) => progress.push(done) });
    const large = await lrp(model, x, { target: [0, 1, 2] });
    await expectClose(small, large, 1e-6);
    expect(progress).toEqual([1, 2, 3]);
    small.dispose();
    large.dispose();
  });

  it('explains the pre-softmax score of a final softmax (fused or as a layer)', async () => {
    const input = tfl.input({ shape: [6] });
    const logits = model.apply(input) as tfl.SymbolicTensor;
    const withSoftmax = tfl.model({ inputs: input, outputs: tfl.layers.softmax().apply(logits) as tfl.SymbolicTensor });
    const reference = await lrp(model, x, { target: 1 });
    await expectClose(await lrp(withSoftmax, x, { target: 1 }), reference, 1e-6);
    const fused = setSeededWeights(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 3, activation: 'softmax' })] }), 3);
    const linear = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 3 })] });
    linear.setWeights(fused.getWeights());
    const a = await lrp(fused, x, { target: 2, composite: 'epsilon' });
    const b = await lrp(linear, x, { target: 2, composite: 'epsilon' });
    await expectClose(a, b, 1e-6);
    [reference, a, b].forEach((t) => t.dispose());
  });

  it('layer gives the relevance at a layer output: the LRP of the rest of the network', async () => {
    const [first, ...rest] = model.layers;
    const hidden = tfl.input({ shape: [8] });
    const tail = tfl.model({ inputs: hidden, outputs: rest.reduce((h, layer) => layer.apply(h) as tfl.SymbolicTensor, hidden) });
    const h = tf.relu(model.layers[0].apply(x) as tf.Tensor);
    const atLayer = await expectNoLeak(() => lrp(model, x, { target: [2, 0, 1], composite: 'epsilon', layer: first.name }));
    expect(atLayer.shape).toEqual([3, 8]);
    const ofTail = await lrp(tail, h, { target: [2, 0, 1], composite: 'epsilon' });
    await expectClose(atLayer, ofTail, 1e-6);
    // LRP-0 at a hidden layer is gradient × activation there.
    const zero = await lrp(model, x, { target: [2, 0, 1], composite: 'epsilon', epsilon: 0, layer: first.name });
    const gxi = await gradientXInput(tail, h, { target: [2, 0, 1] });
    await expectClose(zero, gxi, 1e-5);
    [h, atLayer, ofTail, zero, gxi].forEach((t) => t.dispose());
  });

  it('activations pass relevance unchanged (fused and as layers: relu6, leakyReLU, elu, tanh, sigmoid)', async () => {
    const layers = [
      tfl.layers.dense({ inputShape: [6], units: 5, name: 'pre' }),
      tfl.layers.leakyReLU({ name: 'a1' }),
      tfl.layers.elu({ name: 'a2' }),
      tfl.layers.activation({ activation: 'tanh', name: 'a3' }),
      tfl.layers.activation({ activation: 'sigmoid', name: 'a4' }),
      tfl.layers.dense({ units: 5, activation: 'relu6', name: 'a5' }),
      tfl.layers.dense({ units: 2 }),
    ];
    const chain = setSeededWeights(tfl.sequential({ layers }), 8, 1);
    const at = async (name: string): Promise<tf.Tensor> => lrp(chain, x, { target: 1, composite: 'epsilon', layer: name });
    const [pre, ...after] = await Promise.all(['pre', 'a1', 'a2', 'a3', 'a4'].map(at));
    for (const r of after) await expectClose(r, pre, 1e-6);
    expect((await sumPerExample(tf.abs(pre)))[0]).toBeGreaterThan(1e-3);
    [pre, ...after].forEach((t) => t.dispose());
  });
});

/** y = x·M with a fixed 8×8 matrix M: a linear custom layer. */
class FixedMix extends tfl.layers.Layer {
  static className = 'LrpTestFixedMix';
  readonly mix = tf.keep(seededTensor([8, 8], 72));
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.matMul(Array.isArray(inputs) ? inputs[0] : inputs, this.mix);
  }
}
/** y = 2x, unknown to LRP. */
class Doubling extends tfl.layers.Layer {
  static className = 'LrpTestDoubling';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
  }
}

/** y = a ⊙ b, unknown to LRP. */
class Pairing extends tfl.layers.Layer {
  static className = 'LrpTestPairing';
  override computeOutputShape(shapes: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (shapes as tfl.Shape[])[0];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = inputs as tf.Tensor[];
    return tf.mul(a, b);
  }
}

describe('custom layers', () => {
  const x = seededTensor([2, 6], 71, 2);
  const build = (middle: tfl.layers.Layer) =>
    setSeededWeights(
      tfl.sequential({
        layers: [tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', useBias: false }), middle, tfl.layers.dense({ units: 3, useBias: false })],
      }),
      9,
    );
  const mixed = build(new FixedMix({}));
  const doubled = build(new Doubling({}));
  afterAll(() => x.dispose());

  it('a registered linear layer gets the composite rule of its kind (LRP-0 = gradient × input)', async () => {
    registerLrpLayer('LrpTestFixedMix', {
      kind: 'dense',
      linear: { parameters: (layer) => ({ weight: (layer as FixedMix).mix }), forward: (v, { weight }) => tf.matMul(v, weight) },
    });
    const relevance = await expectNoLeak(() => lrp(mixed, x, { target: 1, composite: 'epsilon', epsilon: 0 }));
    const reference = await gradientXInput(mixed, x, { target: 1 });
    await expectClose(relevance, reference, 1e-5);
    // Its parameters go through the parameter modifiers: ZPlus differs from Epsilon there.
    const zPlusOnIt = await lrp(mixed, x, { target: 1, composite: 'epsilon', layerRules: { byClass: { LrpTestFixedMix: rules.zPlus() } } });
    expect((await sumPerExample(tf.abs(tf.sub(zPlusOnIt, relevance))))[0]).toBeGreaterThan(1e-3);
    [relevance, reference, zPlusOnIt].forEach((t) => t.dispose());
  });

  it("a registered layer's own rule wins over the composite's kind and first-layer rules, not over layerRules", async () => {
    const linear = { parameters: (layer: tfl.layers.Layer) => ({ weight: (layer as FixedMix).mix }), forward: (v: tf.Tensor, { weight }: { weight: tf.Tensor }) => tf.matMul(v, weight) };
    try {
      registerLrpLayer('LrpTestFixedMix', { kind: 'dense', linear, rule: rules.zPlus() });
      const own = await expectNoLeak(() => lrp(mixed, x, { target: 1, composite: 'epsilon' }));
      const byClass = await lrp(mixed, x, { target: 1, composite: 'epsilon', layerRules: { byClass: { LrpTestFixedMix: rules.zPlus() } } });
      await expectClose(own, byClass, 1e-6);
      const overridden = await lrp(mixed, x, { target: 1, composite: 'epsilon', epsilon: 0, layerRules: { byClass: { LrpTestFixedMix: rules.epsilon({ epsilon: 0 }) } } });
      const reference = await gradientXInput(mixed, x, { target: 1 });
      await expectClose(overridden, reference, 1e-5);
      expect(() => registerLrpLayer('LrpTestFixedMix', { kind: 'dense', linear, rule: {} as never })).toThrow(/spec.rule.*expected a rule/);
      [own, byClass, overridden, reference].forEach((t) => t.dispose());
    } finally {
      registerLrpLayer('LrpTestFixedMix', { kind: 'dense', linear });
    }
  });

  it('an unknown layer is a clear error; a rule by class makes it work', async () => {
    const name = doubled.layers[1].name;
    await expectRejectsWithoutLeak(
      () => lrp(doubled, x, { target: 0 }),
      new RegExp(`layer "${name}" \\(class LrpTestDoubling\\) has no LRP rule.*layerRules.*registerLrpLayer\\('LrpTestDoubling'`),
    );
    const relevance = await lrp(doubled, x, { target: 0, composite: 'epsilon', epsilon: 0, layerRules: { byClass: { LrpTestDoubling: rules.pass() } } });
    const scores = tf.tidy(() => tf.squeeze(tf.slice(doubled.predict(x) as tf.Tensor, [0, 0], [-1, 1])));
    await expectClose(await sumPerExample(relevance), scores, 1e-5);
    [relevance, scores].forEach((t) => t.dispose());
  });
});

describe('lrp errors leak nothing', () => {
  const model = denseReluNet(5);
  const residual = residualNet(6);
  const x = seededTensor([2, 6], 81);
  const image = seededTensor([1, 6, 6, 2], 82);
  const vector = tf.ones([6]);
  afterAll(() => [x, image, vector].forEach((t) => t.dispose()));
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['not a LayersModel', () => lrp(((v: tf.Tensor) => v) as unknown as tfl.LayersModel, x, { target: 0 }), /model: lrp needs a tf.LayersModel/],
    ['unknown composite', () => lrp(model, x, { target: 0, composite: 'plus' as 'epsilon' }), /options.composite: expected one of 'epsilon'/],
    ['negative epsilon', () => lrp(model, x, { target: 0, composite: 'epsilon', epsilon: -1 }), /epsilon: expected a number in \[0/],
    ['unused setting', () => lrp(model, x, { target: 0, composite: 'zplus', epsilon: 0.1 }), /options.epsilon: the 'zplus' composite does not use it/],
    ['missing bounds', () => lrp(model, x, { target: 0, composite: 'epsilon-gamma-box' }), /options.low: .*needs the input's bounds/],
    ['setting with an object', () => lrp(model, x, { target: 0, composite: composites.epsilon(), epsilon: 1 }), /options.epsilon: applies to named composites only/],
    ['bad composite object', () => lrp(model, x, { target: 0, composite: { name: 'x' } as Composite }), /options.composite: expected one of/],
    ['bad layer rule', () => lrp(model, x, { target: 0, layerRules: { byName: { foo: 'epsilon' as unknown as Rule } } }), /options.layerRules.byName.foo: expected a rule/],
    ['bad startFrom', () => lrp(model, x, { target: 0, startFrom: 'zero' as 'one' }), /options.startFrom: expected one of 'score', 'one'/],
    ['bad canonize', () => lrp(model, x, { target: 0, canonize: 1 as unknown as boolean }), /options.canonize: expected a boolean/],
    ['unknown layer', () => lrp(model, x, { target: 0, layer: 'nope' }), /options.layer: no layer named "nope"/],
    ['ambiguous layer', () => lrp(residual, image, { target: 0, layer: 'shared' }), /layer "shared" is called 2 times/],
    ['target out of range', () => lrp(model, x, { target: 3 }), /options.target: index 3 is out of range/],
    ['missing target', () => lrp(model, x, {}), /options.target: is required/],
    ['unbatched x', () => lrp(model, vector, { target: 0 }), /x: expected a batched tensor/],
    ['wrong rule for a layer', () => lrp(model, x, { target: 0, composite: 'epsilon', layerRules: { byClass: { Dense: rules.pass() } } }), /pass rule at layer ".*" needs one input shaped like the output/],
    [
      'unsupported layer with two inputs (Multiply is supported since 0.2: an unknown class instead)',
      () => {
        const input = tfl.input({ shape: [6] });
        const product = new Pairing({ name: 'product' }).apply([input, input]) as tfl.SymbolicTensor;
        return lrp(tfl.model({ inputs: input, outputs: product }), x, { target: 0 });
      },
      /layer "product" \(class LrpTestPairing\) has no LRP rule in composite 'epsilon-plus-flat'.*rules\.norm\(\).*signalTakeAll/,
    ],
    [
      'aborted',
      () => {
        const controller = new AbortController();
        return lrp(model, x, { target: 0, batchSize: 1, signal: controller.signal, onProgress: () => controller.abort() });
      },
      /aborted/,
    ],
  ];
  for (const [name, call, pattern] of cases) {
    it(name, async () => {
      const before = tf.memory().numTensors;
      await expectRejectsWithoutLeak(call, pattern);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
