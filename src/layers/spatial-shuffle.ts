import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerBase } from './layer-base';
import type { LrpLayerSpec } from '../attribution/lrp/layer-catalogue';
import { GlassboxModelError } from '../core/errors';
import { currentRowContext } from '../core/row-context';
import { deriveSeed } from '../core/seeded-random';
import { assertBoolean, assertInteger } from '../core/validate';
import { imageInput, imageInputShape } from './image-shape';
import { keyedPermutation, PermutationStream, stringHash } from './permutation-stream';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** Options of {@link SpatialShuffle}, plus tfjs's usual layer options (`name`, `inputShape`, ...). */
export interface SpatialShuffleArgs extends LayerArgs {
  /** One permutation per example (default `true`), or one shared by the whole batch (`false`). */
  perExample?: boolean;
  /**
   * Seed (an integer) of the permutation stream, for reproducible runs: two layers with the same seed
   * draw the same sequence of permutations, call after call. Without it, the stream is seeded randomly.
   */
  seed?: number;
}

/**
 * Spatial shuffle (Fan, Xian, Losch, Schiele 2020, "Analyzing the dependency of ConvNets on spatial
 * information"): permutes the `H·W` positions of its input `[N, H, W, C]` with a fresh random
 * permutation on every call, the same permutation for all channels,
 * `Y[n] = reshape(P_n · reshape(X[n], [H·W, C]), [H, W, C])`, in training and at inference alike.
 * Layers after it can use what features are present, but not where. Weightless; the gradient is the
 * inverse permutation, `∂L/∂X[n] = P_nᵀ · ∂L/∂Y[n]` (implemented with `gather`, so it runs on every
 * backend, wasm included).
 *
 * Each call draws its permutations from a counter-based stream: the `k`-th call's permutations depend
 * only on the seed and `k`, so a seeded layer is reproducible; {@link SpatialShuffle.resetStream}
 * restarts the stream (e.g. to compare a model with its saved-and-loaded copy).
 *
 * Inside an attribution (a row context, see `withRowContext`) the permutation of row `r` depends only
 * on the call's seed, the layer (its seed and name) and the example `r` belongs to, not on the call
 * count: every forward pass of the attribution sees the same permutation per example (per call with
 * `perExample: false`), so the model is one fixed function while it is explained. LRP routes
 * relevance through that permutation (its inverse), as the gradient does.
 */
export class SpatialShuffle extends LayerBase {
  /** The name tfjs's serialisation knows the class by (in saved `model.json` files). */
  static get className(): string {
    return 'SpatialShuffle';
  }

  /** LRP: relevance is routed like the gradient, through the inverse of the row context's permutation. */
  static get lrpDescription(): LrpLayerSpec {
    return { kind: 'structural' };
  }

  /** Whether every example gets its own permutation. */
  readonly perExample: boolean;
  /** The configured seed, or `undefined` for a randomly seeded stream. */
  readonly seed: number | undefined;
  private stream: PermutationStream;

  constructor(args: SpatialShuffleArgs = {}) {
    super(args);
    const { perExample = true, seed } = args;
    assertBoolean(perExample, 'config.perExample');
    if (seed !== undefined && seed !== null) assertInteger(seed, 'config.seed', 0);
    this.perExample = perExample;
    this.seed = seed ?? undefined;
    this.stream = new PermutationStream(this.seed);
  }

  /** Restarts the permutation stream at its first call (with the configured seed, or a new random one). */
  resetStream(): void {
    this.stream = new PermutationStream(this.seed);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    imageInputShape(inputShape, this.who);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return imageInputShape(inputShape, this.who);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = imageInput(inputs, this.who);
    const [n, h, w, c] = x.shape;
    const positions = h * w;
    const perms = this.permutations(n, positions);
    const forward = new Int32Array(n * positions);
    const inverse = new Int32Array(n * positions);
    for (let e = 0; e < n; e++) {
      const perm = perms[this.perExample ? e : 0];
      const offset = e * positions;
      for (let j = 0; j < positions; j++) {
        forward[offset + j] = offset + perm[j];
        inverse[offset + perm[j]] = offset + j;
      }
    }
    const permuteRows = (t: tf.Tensor, rows: Int32Array): tf.Tensor =>
      tf.tidy(() => tf.reshape(tf.gather(tf.reshape(t, [n * positions, c]), tf.tensor1d(rows, 'int32')), [n, h, w, c]));
    const shuffle = tf.customGrad((input) => ({
      value: permuteRows(input as tf.Tensor, forward),
      gradFunc: (dy: tf.Tensor) => permuteRows(dy, inverse),
    }));
    return shuffle(x);
  }

  /** One permutation per row (or one for all rows): from the row context if one is set, else the next of the stream. */
  private permutations(rows: number, positions: number): Int32Array[] {
    const context = currentRowContext();
    if (context === null) return this.stream.next(this.perExample ? rows : 1, positions);
    if (context.examples.length !== rows) {
      throw new GlassboxModelError(`${this.who}: the row context names ${context.examples.length} rows, the layer got ${rows}`);
    }
    const salt = deriveSeed(this.seed ?? 0, stringHash(this.name));
    if (!this.perExample) return [keyedPermutation(deriveSeed(context.seed, salt), positions)];
    return Array.from(context.examples, (example) => keyedPermutation(deriveSeed(context.seed, salt, example), positions));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), perExample: this.perExample };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }

  private get who(): string {
    return `SpatialShuffle '${this.name}'`;
  }
}
