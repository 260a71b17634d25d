/**
 * Open LRP: composites as ordered (matcher → rule) entries with a registry, canonizers as passes with a
 * registry, probability outputs (a final sigmoid is stripped like softmax), and the documented
 * non-conservation of AlphaBeta at neurons without negative contributions (Zennit's semantics).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonizers,
  composites,
  lrp,
  registerCanonizer,
  registerComposite,
  rules,
  type Canonizer,
  type Composite,
  type LrpLayerInfo,
} from '../../src/index';
import { expectClose, expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';
import { setSeededWeights } from '../helpers/models';
import { convReluNet, mobileNetStyle } from './models';

describe('composites as ordered (matcher → rule) lists', () => {
  const conv = convReluNet(3);
  const image = seededTensor([2, 8, 8, 2], 101, 1.5);
  const convs = conv.layers.filter((l) => /Conv/.test(l.getClassName()));
  const dense = conv.layers.find((l) => l.getClassName() === 'Dense')!;
  afterAll(() => image.dispose());
  const eps = rules.epsilon({ epsilon: 0.01 });
  /** Explicit rules for every linear layer: the reference every matcher must reproduce. */
  const explicit = (convRules: ReturnType<typeof rules.zPlus>[], denseRule: ReturnType<typeof rules.zPlus>): Composite =>
    composites.custom({ byName: Object.fromEntries([...convs.map((l, i) => [l.name, convRules[i]]), [dense.name, denseRule]]) });

  async function expectSame(a: Composite, b: Composite): Promise<void> {
    const ra = await lrp(conv, image, { target: 1, composite: a });
    const rb = await lrp(conv, image, { target: 1, composite: b });
    await expectClose(ra, rb, 1e-6);
    [ra, rb].forEach((t) => t.dispose());
  }

  it('match by kind, by class, by name (string, list, RegExp), by first-layer position and by predicate', async () => {
    const zPlus = rules.zPlus();
    await expectSame(composites.custom({ rules: [{ match: { kind: 'conv' }, rule: zPlus }, { match: { kind: 'dense' }, rule: eps }] }), explicit([zPlus, zPlus, zPlus], eps));
    await expectSame(
      composites.custom({ rules: [{ match: { className: 'DepthwiseConv2D' }, rule: eps }, { match: { kind: ['conv', 'dense'] }, rule: zPlus }] }),
      explicit([zPlus, eps, zPlus], zPlus),
    );
    await expectSame(
      composites.custom({
        rules: [
          { match: { name: [convs[0].name, dense.name] }, rule: rules.flat() },
          { match: { name: new RegExp(`^(${convs[1].name}|${convs[2].name})$`) }, rule: eps },
        ],
      }),
      explicit([rules.flat(), eps, eps], rules.flat()),
    );
    await expectSame(
      composites.custom({ rules: [{ match: { kind: 'conv', first: true }, rule: rules.wSquare() }], kinds: { conv: zPlus, dense: eps } }),
      explicit([rules.wSquare(), zPlus, zPlus], eps),
    );
    const seen: LrpLayerInfo[] = [];
    const predicate = (layer: LrpLayerInfo): boolean => {
      seen.push(layer);
      // The layer's fused activation step carries the same layer: match the convolution only.
      return layer.kind === 'conv' && layer.layer?.getConfig().filters === 5;
    };
    await expectSame(composites.custom({ rules: [{ match: predicate, rule: rules.flat() }], kinds: { conv: eps, dense: eps } }), explicit([eps, eps, rules.flat()], eps));
    expect(seen.some((l) => l.className === 'Activation' && l.name.endsWith('/activation'))).toBe(true);
  });

  it('the first matching entry wins; a rule can be a function of the layer', async () => {
    const first = composites.custom({ rules: [{ match: { kind: 'conv' }, rule: rules.flat() }, { match: { kind: 'conv' }, rule: rules.zPlus() }], kinds: { dense: eps } });
    await expectSame(first, explicit([rules.flat(), rules.flat(), rules.flat()], eps));
    const byPosition = composites.custom({
      rules: [{ match: { kind: 'conv' }, rule: (layer) => (layer.first ? rules.wSquare() : rules.zPlus()) }],
      kinds: { dense: eps },
    });
    await expectSame(byPosition, explicit([rules.wSquare(), rules.zPlus(), rules.zPlus()], eps));
  });

  it('composites.extend and layerRules as entries put rules ahead of a named composite', async () => {
    const extended = composites.extend(composites.epsilonPlus({ epsilon: 0.01 }), [{ match: { className: 'Conv2D' }, rule: rules.flat() }]);
    await expectSame(extended, explicit([rules.flat(), rules.zPlus(), rules.flat()], eps));
    const viaOptions = await lrp(conv, image, { target: 1, composite: 'epsilon-plus', epsilon: 0.01, layerRules: [{ match: { className: 'Conv2D' }, rule: rules.flat() }] });
    const reference = await lrp(conv, image, { target: 1, composite: extended });
    await expectClose(viaOptions, reference, 1e-6);
    [viaOptions, reference].forEach((t) => t.dispose());
  });

  it('registerComposite makes a name work in lrp, with the settings it declares', async () => {
    registerComposite('test-conv-flat', ({ epsilon }) => composites.extend(composites.epsilonPlus({ epsilon }), [{ match: { kind: 'conv' }, rule: rules.flat() }]), {
      settings: ['epsilon'],
    });
    const named = await expectNoLeak(() => lrp(conv, image, { target: 1, composite: 'test-conv-flat', epsilon: 0.01 }));
    const reference = await lrp(conv, image, { target: 1, composite: explicit([rules.flat(), rules.flat(), rules.flat()], eps) });
    await expectClose(named, reference, 1e-6);
    [named, reference].forEach((t) => t.dispose());
    await expectRejectsWithoutLeak(() => lrp(conv, image, { target: 1, composite: 'test-conv-flat', gamma: 1 }), /options.gamma: the 'test-conv-flat' composite does not use it/);
    await expectRejectsWithoutLeak(() => lrp(conv, image, { target: 1, composite: 'nope' }), /options.composite: expected one of 'epsilon'.*'test-conv-flat'/);
    registerComposite('test-broken', () => ({ name: 'x' }) as unknown as Composite);
    await expectRejectsWithoutLeak(() => lrp(conv, image, { target: 1, composite: 'test-broken' }), /factory registered for composite 'test-broken' returned/);
    expect(() => registerComposite('x', {} as never)).toThrow(/factory: expected a function/);
    expect(() => registerComposite('x', () => composites.epsilon(), { settings: ['delta' as 'epsilon'] })).toThrow(/options.settings/);
  });

  it('bad entries are errors naming the entry', async () => {
    await expectRejectsWithoutLeak(() => lrp(conv, image, { target: 1, layerRules: [{ match: 3, rule: rules.flat() }] as never }), /options.layerRules\[0\].match: expected a pattern/);
    expect(() => composites.custom({ rules: [{ match: {}, rule: 'flat' }] as never })).toThrow(/options.rules\[0\].rule: expected a rule/);
  });
});

describe('canonizers as passes with a registry', () => {
  const mobile = mobileNetStyle(17);
  const photos = seededTensor([2, 8, 8, 3], 102, 1);
  afterAll(() => photos.dispose());

  it("canonize: true is ['merge-batch-norm', 'gates', 'attention']; names and objects are accepted", async () => {
    const byDefault = await lrp(mobile, photos, { target: 1, composite: 'epsilon-plus' });
    const byName = await lrp(mobile, photos, { target: 1, composite: 'epsilon-plus', canonize: ['merge-batch-norm', 'gates', 'attention'] });
    const byObject = await lrp(mobile, photos, { target: 1, composite: 'epsilon-plus', canonize: [canonizers.mergeBatchNorm] });
    await expectClose(byName, byDefault, 1e-6);
    await expectClose(byObject, byDefault, 1e-6);
    const none = await lrp(mobile, photos, { target: 1, composite: 'epsilon-plus', canonize: [] });
    const off = await lrp(mobile, photos, { target: 1, composite: 'epsilon-plus', canonize: false });
    await expectClose(none, off, 1e-6);
    [byDefault, byName, byObject, none, off].forEach((t) => t.dispose());
    await expectRejectsWithoutLeak(() => lrp(mobile, photos, { target: 1, canonize: ['merge-batchnorm'] }), /options.canonize\[0\]: unknown canonizer "merge-batchnorm"; known: 'merge-batch-norm'/);
  });

  it('a registered canonizer rewrites the program: here it marks the second input of every product as a gate', async () => {
    const input = tfl.input({ shape: [4] });
    const a = tfl.layers.dense({ units: 3, activation: 'relu', useBias: false, name: 'a' }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 3, activation: 'relu', useBias: false, name: 'b' }).apply(input) as tfl.SymbolicTensor;
    const product = tfl.layers.multiply({ name: 'product' }).apply([a, b]) as tfl.SymbolicTensor;
    const model = setSeededWeights(tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, useBias: false }).apply(product) as tfl.SymbolicTensor }), 103, 0.9);
    const x = seededTensor([2, 4], 104, 2);
    const seen: string[] = [];
    const secondIsGate: Canonizer = {
      name: 'test-second-is-gate',
      apply(program) {
        for (const step of program.steps) {
          seen.push(step.kind ?? 'none');
          if (step.kind === 'multiply') step.gates = step.inputs.map((_, k) => k === 1);
        }
      },
    };
    registerCanonizer(secondIsGate);
    const options = { target: 0, composite: 'epsilon' as const, epsilon: 0, layer: 'b' };
    const atB = await expectNoLeak(() => lrp(model, x, { ...options, canonize: ['test-second-is-gate'] }));
    expect(seen).toContain('multiply');
    expect(Array.from(await atB.data()).every((v) => Math.abs(v) < 1e-7)).toBe(true);
    const atA = await lrp(model, x, { ...options, layer: 'a', canonize: [secondIsGate] });
    const atProduct = await lrp(model, x, { ...options, layer: 'product', canonize: [secondIsGate] });
    await expectClose(atA, atProduct, 1e-5);
    [x, atB, atA, atProduct].forEach((t) => t.dispose());
    expect(() => registerCanonizer({ name: 'x' } as Canonizer)).toThrow(/canonizer: expected \{ name: string, apply\(program\) \}/);
  });
});

describe("the 'attention' canonizer (CP-LRP): softmax attention weights are held constant", () => {
  // Self-attention on [N, T = 3, D = 4]: q, k, v dense, softmax(q·kᵀ) · v, flattened into 2 logits.
  const input = tfl.input({ shape: [3, 4] });
  const dense = (name: string) => tfl.layers.dense({ units: 4, useBias: false, name }).apply(input) as tfl.SymbolicTensor;
  const [q, k, v] = ['q', 'k', 'v'].map(dense);
  const scores = tfl.layers.dot({ axes: [2, 2], name: 'scores' }).apply([q, k]) as tfl.SymbolicTensor;
  const weights = tfl.layers.softmax({ axis: -1, name: 'attention' }).apply(scores) as tfl.SymbolicTensor;
  const mixed = tfl.layers.dot({ axes: [2, 1], name: 'mixed' }).apply([weights, v]) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 2, useBias: false, name: 'logits' }).apply(tfl.layers.flatten().apply(mixed) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = setSeededWeights(tfl.model({ inputs: input, outputs: logits }), 105, 0.9);
  const x = seededTensor([2, 3, 4], 106, 1.5);
  afterAll(() => x.dispose());

  it('relevance flows through the values only: LRP-0 = gradient × input with the weights held, conserved; none reaches q and k', async () => {
    const options = { target: [1, 0], composite: 'epsilon' as const, epsilon: 0 };
    const relevance = await expectNoLeak(() => lrp(model, x, options));
    const [reference, chosen] = tf.tidy(() => {
      const [query, key] = ['q', 'k'].map((name) => model.getLayer(name).apply(x) as tf.Tensor);
      const held = model.getLayer('attention').apply(model.getLayer('scores').apply([query, key])) as tf.Tensor3D;
      const onehot = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2);
      const f = (u: tf.Tensor) =>
        tf.mul(model.getLayer('logits').apply(tf.reshape(tf.matMul(held, model.getLayer('v').apply(u) as tf.Tensor3D), [2, 12])) as tf.Tensor, onehot);
      return [tf.mul(x, tf.grad((u: tf.Tensor) => tf.sum(f(u)))(x)), tf.sum(f(x), 1)];
    });
    await expectClose(relevance, reference, 1e-4);
    const sums = tf.sum(relevance, [1, 2]);
    await expectClose(sums, chosen, 1e-4);
    const atQuery = await lrp(model, x, { ...options, layer: 'q' });
    expect(Math.max(...Array.from(await tf.abs(atQuery).data()))).toBe(0);
    // Without the canonizer the attention weights are signals of the product: q and k get relevance.
    const unheld = await lrp(model, x, { ...options, layer: 'q', canonize: ['merge-batch-norm', 'gates'] });
    expect(Math.max(...Array.from(await tf.abs(unheld).data()))).toBeGreaterThan(1e-4);
    [relevance, reference, chosen, sums, atQuery, unheld].forEach((t) => t.dispose());
  });
});

describe('probability outputs: a final sigmoid is stripped like softmax', () => {
  // Logistic regression with contributions x·w = [0.2, −2.0, 0.1] (no bias): logit −1.7, p = 0.154.
  const x = tf.tensor2d([[2, 4, 0.5]]);
  const weight = tf.tensor2d([[0.1], [-0.5], [0.2]]);
  afterAll(() => [x, weight].forEach((t) => t.dispose()));

  it('relevance keeps the sign of each contribution, fused or as an Activation layer', async () => {
    const fused = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 1, activation: 'sigmoid', useBias: false })] });
    fused.setWeights([weight]);
    const separate = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 1, useBias: false }), tfl.layers.activation({ activation: 'sigmoid', name: 'probability' })],
    });
    separate.setWeights([weight]);
    for (const model of [fused, separate]) {
      const relevance = await expectNoLeak(() => lrp(model, x, { target: 0, composite: 'epsilon' }));
      await expectClose(relevance, [0.2, -2.0, 0.1], 1e-5);
      relevance.dispose();
    }
    await expectRejectsWithoutLeak(() => lrp(separate, x, { target: 0, layer: 'probability' }), /does not reach the explained output \(the final sigmoid is not explained/);
  });
});

describe('AlphaBeta where a neuron has no negative contributions (Zennit semantics, documented)', () => {
  it('sends α·R through such a neuron: a 2-neuron layer computed by hand', async () => {
    // x = [1, 2]. Neuron 0: W = [1, 1], contributions [1, 2], z_α = 3, z_β = 0 → s(z_β) = ε, β-term 0:
    // R_in = 2·[1, 2]/3 = [2/3, 4/3] (sum 2 = α·R). Neuron 1: W = [3, −1], contributions [3, −2]:
    // R_in = 2·[3, 0]/3 − 1·[0, −2]/(−2) = [2, −1] (sum 1 = R). Total [8/3, 1/3], sum 3 for R = [1, 1].
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2, useBias: false })] });
    const kernel = tf.tensor2d([
      [1, 3],
      [1, -1],
    ]);
    model.setWeights([kernel]);
    const x = tf.tensor2d([[1, 2]]);
    const relevance = await expectNoLeak(() =>
      lrp(model, x, { target: (o) => tf.sum(o, 1) as tf.Tensor1D, composite: 'alpha2-beta1', startFrom: 'one' }),
    );
    await expectClose(relevance, [8 / 3, 1 / 3], 1e-5);
    [kernel, x, relevance].forEach((t) => t.dispose());
  });
});
