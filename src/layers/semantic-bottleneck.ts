/**
 * SemanticBottleneck (Losch, Fritz & Schiele, "Interpretability Beyond Classification Output: Semantic
 * Bottleneck Networks", 2019; "Semantic Bottlenecks: Quantifying and Improving Inspectability of Deep
 * Representations", GCPR 2020): a 1×1 convolution from C channels to K concept channels, optionally
 * batch-normalised, then
 *
 * - `'group-softmax'` (default): softmax within each concept group (a pixel has one colour, one part of
 *   a given object …): `p_k = exp(l_k/τ) / Σ_{j ∈ group(k)} exp(l_j/τ)`;
 * - `'softmax'`: softmax over all K channels (the unsupervised variant; a low temperature τ makes it
 *   nearly one-hot);
 * - `'sigmoid'`: `p_k = σ(l_k/τ)` per channel.
 *
 * Every layer after it sees only these K channels. Train the channels with concept labels through
 * {@link conceptLoss} and measure how well they match concepts with {@link inspectability}. Works on
 * any input whose last axis holds the channels ([N, C], [N, H, W, C], …).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerBase } from './layer-base';
import type { LrpBuilder, LrpLayerSpec } from '../attribution/lrp/layer-catalogue';
import { describeValue, GlassboxArgumentError, GlassboxModelError } from '../core/errors';
import { assertNumberInRange, assertOneOf } from '../core/validate';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** A group of mutually exclusive concepts (e.g. `{ name: 'colour', size: 4 }`). */
export interface ConceptGroup {
  /** The group's name, unique within the layer; channels are named `name/index`. */
  name: string;
  /** How many concept channels (mutually exclusive concepts) the group has, ≥ 1. */
  size: number;
}

/** The activations of {@link SemanticBottleneck}. */
export const SEMANTIC_BOTTLENECK_ACTIVATIONS = ['group-softmax', 'softmax', 'sigmoid'] as const;
/** The activation applied to the concept logits. */
export type SemanticBottleneckActivation = (typeof SEMANTIC_BOTTLENECK_ACTIVATIONS)[number];

/** Options of `layers.semanticBottleneck(...)` ({@link SemanticBottleneck}), plus tfjs's usual layer options. */
export interface SemanticBottleneckArgs extends LayerArgs {
  /** K concept channels in one group, or the concept groups (channels in this order). */
  concepts: number | ConceptGroup[];
  /** Default `'group-softmax'`. */
  activation?: SemanticBottleneckActivation;
  /** τ: the logits are divided by it before the activation. Default 1. */
  temperature?: number;
  /** Batch-normalise the logits (momentum 0.99, ε 1e−3, like tf.layers.batchNormalization). Default false. */
  batchNorm?: boolean;
}

/** Momentum of the batch-norm moving statistics. */
const BN_MOMENTUM = 0.99;
/** Added to the variance in batch norm. */
const BN_EPSILON = 1e-3;

/** Normalises `concepts` into groups, with clear errors for bad values. */
export function conceptGroups(concepts: unknown, argument = 'config.concepts'): ConceptGroup[] {
  if (typeof concepts === 'number') {
    if (!Number.isInteger(concepts) || concepts < 1) {
      throw new GlassboxArgumentError(argument, `expected a positive integer number of concept channels, got ${describeValue(concepts)}`);
    }
    return [{ name: 'concepts', size: concepts }];
  }
  if (!Array.isArray(concepts) || concepts.length === 0) {
    throw new GlassboxArgumentError(argument, `expected a number of channels or a non-empty array of { name, size } groups, got ${describeValue(concepts)}`);
  }
  const names = new Set<string>();
  return concepts.map((group: unknown, i) => {
    const g = group as Partial<ConceptGroup> | null;
    if (!g || typeof g.name !== 'string' || g.name === '' || !Number.isInteger(g.size) || (g.size as number) < 1) {
      throw new GlassboxArgumentError(`${argument}[${i}]`, `expected { name: non-empty string, size: positive integer }, got ${JSON.stringify(group)}`);
    }
    if (names.has(g.name)) throw new GlassboxArgumentError(`${argument}[${i}].name`, `concept group names must be unique, '${g.name}' repeats`);
    names.add(g.name);
    return { name: g.name, size: g.size as number };
  });
}

/**
 * A 1×1 convolution to K concept channels + optional batch norm + group softmax, softmax or sigmoid.
 * Weights: `kernel` [C, K], `bias` [K] (without batch norm) or `gamma`, `beta`, `moving_mean`,
 * `moving_variance` [K] (with it).
 */
export class SemanticBottleneck extends LayerBase {
  /** The name tfjs's serialisation knows the class by (in saved `model.json` files). */
  static get className(): string {
    return 'SemanticBottleneck';
  }

  /**
   * LRP: the 1×1 convolution is a linear step (the composite's conv rule on images, its Dense rule on
   * vectors), the batch norm an affine step that MergeBatchNorm folds into it, and the activation
   * (temperature and group softmax, softmax or sigmoid) an activation step (Pass in every composite).
   */
  static get lrpDescription(): LrpLayerSpec {
    return { expand: (layer, builder, [x]) => (layer as SemanticBottleneck).addLrpSteps(builder, x) };
  }
  /** The concept groups, in channel order. */
  readonly groups: readonly ConceptGroup[];
  /** The activation of the concept logits (`'group-softmax'` by default). */
  readonly activation: SemanticBottleneckActivation;
  /** τ, the divisor of the logits before the activation (default 1). */
  readonly temperature: number;
  /** Whether the logits are batch-normalised before the activation (default false). */
  readonly batchNorm: boolean;
  private readonly concepts: number | ConceptGroup[];
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;
  private movingMean?: tfl.LayerVariable;
  private movingVariance?: tfl.LayerVariable;

  constructor(args: SemanticBottleneckArgs) {
    super(args);
    if (args === undefined || args === null) throw new GlassboxArgumentError('config', 'expected { concepts, ... }, got nothing');
    const { concepts, activation = 'group-softmax', temperature = 1, batchNorm = false } = args;
    this.groups = conceptGroups(concepts);
    assertOneOf(activation, 'config.activation', SEMANTIC_BOTTLENECK_ACTIVATIONS);
    assertNumberInRange(temperature, 'config.temperature', { min: 0, minExclusive: true });
    if (typeof batchNorm !== 'boolean') throw new GlassboxArgumentError('config.batchNorm', `expected a boolean, got ${describeValue(batchNorm)}`);
    this.concepts = typeof concepts === 'number' ? concepts : this.groups.map((g) => ({ ...g }));
    this.activation = activation;
    this.temperature = temperature;
    this.batchNorm = batchNorm;
  }

  /** K, the number of concept channels (the sum of the group sizes). */
  get units(): number {
    return this.groups.reduce((s, g) => s + g.size, 0);
  }

  /** One name per channel: `group/index` (`concepts/3` when `concepts` is a number). */
  get channelNames(): string[] {
    return this.groups.flatMap((g) => Array.from({ length: g.size }, (_, i) => `${g.name}/${i}`));
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length < 2 || channels === null) {
      throw new GlassboxArgumentError('input', `SemanticBottleneck expects a known channel axis last, got shape [${shape.join(', ')}]`);
    }
    const k = this.units;
    this.kernel = this.addWeight('kernel', [channels, k], 'float32', tfl.initializers.glorotUniform({}), undefined, true);
    if (this.batchNorm) {
      this.gamma = this.addWeight('gamma', [k], 'float32', tfl.initializers.ones(), undefined, true);
      this.beta = this.addWeight('beta', [k], 'float32', tfl.initializers.zeros(), undefined, true);
      this.movingMean = this.addWeight('moving_mean', [k], 'float32', tfl.initializers.zeros(), undefined, false);
      this.movingVariance = this.addWeight('moving_variance', [k], 'float32', tfl.initializers.ones(), undefined, false);
    } else {
      this.bias = this.addWeight('bias', [k], 'float32', tfl.initializers.zeros(), undefined, true);
    }
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: channels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const channels = x.shape[x.rank - 1];
      const flat = tf.reshape(x, [-1, channels]) as tf.Tensor2D;
      const linear = tf.matMul(flat, this.kernel!.read() as tf.Tensor2D) as tf.Tensor2D;
      const logits = this.batchNorm ? this.normalize(linear, kwargs?.training === true) : tf.add(linear, this.bias!.read());
      return this.conceptActivation(tf.reshape(logits, [...x.shape.slice(0, -1), this.units]));
    });
  }

  /**
   * The layer's activation on concept logits `[..., K]` (after the 1×1 convolution and batch norm):
   * division by the temperature, then the group softmax, softmax or sigmoid.
   */
  conceptActivation(logits: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const flat = tf.reshape(logits, [-1, this.units]) as tf.Tensor2D;
      return tf.reshape(this.activate(tf.div(flat, this.temperature) as tf.Tensor2D), logits.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const concepts = typeof this.concepts === 'number' ? this.concepts : this.concepts.map((g) => ({ name: g.name, size: g.size }));
    return {
      concepts,
      activation: this.activation,
      temperature: this.temperature,
      batchNorm: this.batchNorm,
      ...super.getConfig(),
    } as tf.serialization.ConfigDict;
  }

  /** The LRP steps of this layer on slot `x` (see the static registration). */
  private addLrpSteps(builder: LrpBuilder, x: number): number {
    if (!this.built) throw new GlassboxModelError(`lrp: SemanticBottleneck "${this.name}" is not built`);
    const rank = builder.inputShapes[0]?.length;
    const k = this.units;
    const logits = builder.add({
      inputs: [x],
      kind: rank !== undefined && rank > 2 ? 'conv' : 'dense',
      parameters: { weight: this.kernel!.read(), bias: this.batchNorm ? null : this.bias!.read() },
      forward: ([v], p) => {
        const z = tf.reshape(tf.matMul(tf.reshape(v, [-1, v.shape[v.rank - 1]]), p!.weight as tf.Tensor2D), [...v.shape.slice(0, -1), k]);
        return p!.bias === null ? z : tf.add(z, p!.bias);
      },
      scaleOutputs: (w, scale) => tf.mul(w, scale),
    });
    let normalized = logits;
    if (this.batchNorm) {
      const { scale, shift } = tf.tidy(() => {
        const s = tf.mul(this.gamma!.read(), tf.rsqrt(tf.add(this.movingVariance!.read(), BN_EPSILON)));
        return { scale: s, shift: tf.sub(this.beta!.read(), tf.mul(this.movingMean!.read(), s)) };
      });
      builder.own(scale);
      builder.own(shift);
      normalized = builder.add({ inputs: [logits], kind: 'batchnorm', part: 'batch-norm', className: 'BatchNormalization', affine: { scale, shift }, forward: ([v]) => tf.add(tf.mul(v, scale), shift) });
    }
    return builder.add({
      inputs: [normalized],
      kind: 'activation',
      part: 'activation',
      className: 'Activation',
      activation: this.activation,
      forward: ([v]) => this.conceptActivation(v),
    });
  }

  /** Batch norm over the rows of [P, K]: batch statistics (and moving-average updates) in training. */
  private normalize(logits: tf.Tensor2D, training: boolean): tf.Tensor2D {
    let mean = this.movingMean!.read();
    let variance = this.movingVariance!.read();
    if (training) {
      const moments = tf.moments(logits, 0);
      mean = moments.mean;
      variance = moments.variance;
      for (const [variable, value] of [[this.movingMean!, mean], [this.movingVariance!, variance]] as const) {
        variable.write(tf.sub(variable.read(), tf.mul(tf.sub(variable.read(), value), 1 - BN_MOMENTUM)));
      }
    }
    return tf.batchNorm(logits, mean, variance, this.beta!.read(), this.gamma!.read(), BN_EPSILON) as tf.Tensor2D;
  }

  private activate(logits: tf.Tensor2D): tf.Tensor2D {
    if (this.activation === 'sigmoid') return tf.sigmoid(logits) as tf.Tensor2D;
    if (this.activation === 'softmax' || this.groups.length === 1) return tf.softmax(logits);
    const parts = tf.split(logits, this.groups.map((g) => g.size), 1);
    return tf.concat(parts.map((p) => tf.softmax(p)), 1) as tf.Tensor2D;
  }
}
