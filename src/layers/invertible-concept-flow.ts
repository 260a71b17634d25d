/**
 * InvertibleConceptFlow (Esser, Rombach & Ommer, "A Disentangling Invertible Interpretation Network
 * for Explaining Latent Representations", CVPR 2020): an invertible map `z = T(x)` of a D-dimensional
 * representation whose output is split into semantic factors `[z₁, …, z_K, z_residual]`. Trained with
 * {@link flowNll} (unsupervised) or {@link disentanglingLoss} (pairs sharing a factor), it lets you
 * map a representation to factors, change one factor, and map back with {@link InvertibleConceptFlow.inverse}.
 *
 * Code-exact with the authors' `UnconditionalFlatDoubleCouplingFlowBlock`: `flows` units, each
 * ActNorm (data-dependent initialisation) → double affine coupling (S, T: MLPs dim/2 → hidden → … →
 * dim/2, LeakyReLU 0.01, tanh on S) → fixed random permutation. The permutations are part of the
 * config, so a saved model is the same function after loading.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerBase } from './layer-base';
import type { LrpBuilder, LrpLayerSpec } from '../attribution/lrp/layer-catalogue';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from '../core/errors';
import { deriveSeed } from '../core/seeded-random';
import { assertInteger } from '../core/validate';
import { ActNorm } from './flow/act-norm';
import { DoubleAffineCoupling } from './flow/affine-coupling';
import { assertPermutation, FixedPermutation, randomPermutation } from './flow/permutation';
import type { AddWeight, Initializer } from './flow/weight-factory';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** `call` kwarg that makes `apply` only build the layer (used when methods are called before `apply`). */
const BUILD_ONLY = 'glassboxBuildOnly';

/** Options of `layers.invertibleConceptFlow(...)` ({@link InvertibleConceptFlow}), plus tfjs's usual layer options. */
export interface InvertibleConceptFlowArgs extends LayerArgs {
  /** Number of flow units (ActNorm + double coupling + permutation). Default 12. */
  flows?: number;
  /** Width of the hidden layers of S and T. Default 512. */
  hidden?: number;
  /** Number of hidden→hidden layers in S and T. Default 2. */
  depth?: number;
  /**
   * Sizes of the semantic factors `z₁ … z_K` at the start of the output; the remaining
   * `D − Σ factors` dimensions are the residual factor. Default `[]` (one residual factor).
   */
  factors?: number[];
  /** Seed of the permutations and the initial weights (random when omitted). */
  seed?: number;
  /** The permutations, one per unit; set by the layer itself and stored in its config. */
  permutations?: number[][];
}

/** The flow's output and the log-determinant of its Jacobian, one per example. */
export type FlowOutput = {
  /** `T(x)`, shape [N, D]. */
  z: tf.Tensor2D;
  /** `log|det ∂T(x)/∂x|`, shape [N]. */
  logDet: tf.Tensor1D;
};

interface FlowUnit {
  norm: ActNorm;
  coupling: DoubleAffineCoupling;
  permutation: FixedPermutation;
}

/**
 * An invertible network on [N, D] representations (D even). Use it inside a model like any layer
 * (its output is `z = T(x)`), or call {@link forwardWithLogDet}, {@link inverse},
 * {@link splitFactors} and {@link transferFactor} directly.
 *
 * ActNorm initialises itself from the first batch passed forward through the layer, so make that a
 * representative batch (not a single example).
 */
export class InvertibleConceptFlow extends LayerBase {
  /** The name tfjs's serialisation knows the class by (in saved `model.json` files). */
  static get className(): string {
    return 'InvertibleConceptFlow';
  }

  /**
   * LRP: every unit as ActNorm (an affine step), the double coupling (gated products: the scales are
   * gates, Arras et al. 2017; sums with the translations, Norm) and the fixed permutation (routing).
   */
  static get lrpDescription(): LrpLayerSpec {
    return { expand: (layer, builder, [x]) => (layer as InvertibleConceptFlow).addLrpSteps(builder, x) };
  }
  /** Number of flow units (default 12). */
  readonly flows: number;
  /** Width of the hidden layers of the coupling networks S and T (default 512). */
  readonly hidden: number;
  /** Number of hidden→hidden layers in S and T (default 2). */
  readonly depth: number;
  /** Sizes of the semantic factors at the start of `z`; the rest of the D dimensions is the residual factor. */
  readonly factors: readonly number[];
  /** Seed of the permutations and initial weights, or `undefined` (random). */
  readonly seed: number | undefined;
  private permutations: number[][] | undefined;
  private units: FlowUnit[] = [];
  private dim = 0;
  /** Whether the ActNorm flags are known to be set, so the guarded initialisation can be skipped. */
  private actNormReady = false;

  constructor(args: InvertibleConceptFlowArgs = {}) {
    super(args);
    const { flows = 12, hidden = 512, depth = 2, factors = [], seed, permutations } = args;
    assertInteger(flows, 'config.flows', 1);
    assertInteger(hidden, 'config.hidden', 1);
    assertInteger(depth, 'config.depth', 0);
    if (!Array.isArray(factors) || !factors.every((f) => Number.isInteger(f) && f >= 1)) {
      throw new GlassboxArgumentError('config.factors', `expected an array of positive integer factor sizes, got ${describeValue(factors)}`);
    }
    if (seed !== undefined) assertInteger(seed, 'config.seed', 0);
    if (permutations !== undefined && (!Array.isArray(permutations) || permutations.length !== flows)) {
      throw new GlassboxArgumentError('config.permutations', `expected ${flows} permutations (one per unit), got ${describeValue(permutations)}`);
    }
    this.flows = flows;
    this.hidden = hidden;
    this.depth = depth;
    this.factors = [...factors];
    this.seed = seed;
    this.permutations = permutations?.map((p) => [...p]);
  }

  /** The representation width D (0 before the layer is built). */
  get dimension(): number {
    return this.dim;
  }

  /** Sizes of all factors including the residual (omitted when it is empty); needs a built layer. */
  get factorSizes(): number[] {
    this.assertBuilt('factorSizes');
    const residual = this.dim - this.factors.reduce((a, b) => a + b, 0);
    return residual > 0 ? [...this.factors, residual] : [...this.factors];
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1];
    if (shape.length !== 2 || dim === null) {
      throw new GlassboxArgumentError('input', `InvertibleConceptFlow expects [batch, D] vectors, got shape [${shape.join(', ')}]`);
    }
    if (dim % 2 !== 0) {
      throw new GlassboxArgumentError('input', `InvertibleConceptFlow needs an even dimension D to split into halves, got D = ${dim}`);
    }
    const total = this.factors.reduce((a, b) => a + b, 0);
    if (total > dim) {
      throw new GlassboxArgumentError('config.factors', `the factor sizes [${this.factors.join(', ')}] add up to ${total}, more than the representation's D = ${dim}`);
    }
    const seed = this.seed ?? Math.floor(Math.random() * 2 ** 31);
    const permutations = this.permutations ?? Array.from({ length: this.flows }, (_, u) => randomPermutation(dim, deriveSeed(seed, u, 2)));
    permutations.forEach((p, u) => assertPermutation(p, dim, `config.permutations[${u}]`));
    this.permutations = permutations;
    this.dim = dim;
    const addWeight: AddWeight = (name: string, weightShape: number[], initializer: Initializer, trainable: boolean) =>
      this.addWeight(name, weightShape, 'float32', initializer, undefined, trainable);
    this.units = permutations.map((perm, u) => ({
      norm: new ActNorm(dim, `unit${u}/actnorm`, addWeight),
      coupling: new DoubleAffineCoupling(dim, this.hidden, this.depth, `unit${u}/coupling`, deriveSeed(seed, u, 1), addWeight),
      permutation: new FixedPermutation(perm),
    }));
    this.inputSpec = [{ ndim: 2, axes: { [-1]: dim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs?.[BUILD_ONLY]) return tf.clone(x);
    return tf.tidy(() => this.run(x as tf.Tensor2D).z);
  }

  /** `z = T(x)` and `log|det ∂T/∂x|` per example, for the likelihood losses. `x`: [N, D]. */
  forwardWithLogDet(x: tf.Tensor): FlowOutput {
    this.prepare(x, 'x');
    return tf.tidy(() => this.run(x as tf.Tensor2D));
  }

  /** `x = T⁻¹(z)`: runs the units backwards. `z`: [N, D]. */
  inverse(z: tf.Tensor): tf.Tensor2D {
    this.prepare(z, 'z');
    return tf.tidy(() => {
      let h = z as tf.Tensor2D;
      for (let u = this.units.length - 1; u >= 0; u--) {
        const { norm, coupling, permutation } = this.units[u];
        h = norm.inverse(coupling.inverse(permutation.inverse(h)));
      }
      return h;
    });
  }

  /** Splits `z` [N, D] into the factors `[z₁, …, z_K, z_residual]` (sizes {@link factorSizes}). */
  splitFactors(z: tf.Tensor): tf.Tensor2D[] {
    this.prepare(z, 'z');
    return tf.split(z, this.factorSizes, 1) as tf.Tensor2D[];
  }

  /**
   * Moves factor `factor` of `x` towards that of `source` and maps back:
   * `T⁻¹(z')` with `z'_F = (1 − t)·T(x)_F + t·T(source)_F` and every other factor of `T(x)` kept.
   * `t = 1` (default) replaces the factor, `0 < t < 1` interpolates. `factor` indexes
   * {@link factorSizes} (the residual is the last index). `source` has the shape of `x` or [1, D].
   */
  transferFactor(x: tf.Tensor, source: tf.Tensor, factor: number, t = 1): tf.Tensor2D {
    this.prepare(x, 'x');
    this.prepare(source, 'source');
    if (source.shape[0] !== x.shape[0] && source.shape[0] !== 1) {
      throw new GlassboxArgumentError('source', `expected ${x.shape[0]} or 1 rows (like x), got shape [${source.shape.join(', ')}]`);
    }
    const sizes = this.factorSizes;
    assertInteger(factor, 'factor', 0);
    if (factor >= sizes.length) {
      throw new GlassboxArgumentError('factor', `expected a factor index below ${sizes.length} (factor sizes [${sizes.join(', ')}]), got ${factor}`);
    }
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new GlassboxArgumentError('t', `expected a finite number, got ${describeValue(t)}`);
    return tf.tidy(() => {
      const parts = tf.split(this.run(x as tf.Tensor2D).z, sizes, 1);
      const sourceParts = tf.split(this.run(source as tf.Tensor2D).z, sizes, 1);
      parts[factor] = tf.add(tf.mul(1 - t, parts[factor]), tf.mul(t, sourceParts[factor]));
      return this.inverse(tf.concat(parts, 1));
    });
  }

  override setWeights(weights: tf.Tensor[]): void {
    super.setWeights(weights);
    this.actNormReady = false;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { flows: this.flows, hidden: this.hidden, depth: this.depth, factors: [...this.factors] };
    if (this.seed !== undefined) config.seed = this.seed;
    if (this.permutations !== undefined) config.permutations = this.permutations.map((p) => [...p]);
    return { ...config, ...super.getConfig() };
  }

  /** The forward pass through all units, initialising ActNorm on the first batch. */
  private run(x: tf.Tensor2D): FlowOutput {
    let h = x;
    let logDet = tf.zeros([x.shape[0]]) as tf.Tensor1D;
    for (const { norm, coupling, permutation } of this.units) {
      if (!this.actNormReady) norm.initializeFrom(h);
      const normed = norm.forward(h);
      const coupled = coupling.forward(normed.y);
      h = permutation.forward(coupled.y);
      logDet = tf.add(tf.add(logDet, normed.logDet), coupled.logDet);
    }
    this.actNormReady = true;
    return { z: h, logDet };
  }

  /** The LRP steps of all units on slot `x`; the ActNorms must have seen their first batch. */
  private addLrpSteps(builder: LrpBuilder, x: number): number {
    if (!this.built) throw new GlassboxModelError(`lrp: InvertibleConceptFlow "${this.name}" is not built`);
    return this.units.reduce(
      (h, { norm, coupling, permutation }, u) =>
        permutation.addLrpSteps(builder, coupling.addLrpSteps(builder, norm.addLrpSteps(builder, h, `unit${u}/actnorm`), `unit${u}/coupling`), `unit${u}/permutation`),
      x,
    );
  }

  /** Validates a [N, D] argument and builds the layer on first use outside a model. */
  private prepare(x: tf.Tensor, argument: string): void {
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.isDisposed) {
      throw new GlassboxArgumentError(argument, `expected a [batch, D] tf.Tensor, got ${describeValue(x)}`);
    }
    // Build through `apply` (weight names scoped like in a model, layer marked as used), skipping the
    // forward pass so ActNorm still initialises on the first real batch.
    if (!this.built) tf.dispose(this.apply(x, { [BUILD_ONLY]: true }) as tf.Tensor);
    if (x.shape[1] !== this.dim) {
      throw new GlassboxArgumentError(argument, `expected [batch, ${this.dim}] (the flow's D), got [${x.shape.join(', ')}]`);
    }
  }

  private assertBuilt(what: string): void {
    if (!this.built) throw new GlassboxArgumentError(what, 'the layer is not built yet: apply it to an input (or call forwardWithLogDet) first');
  }
}
