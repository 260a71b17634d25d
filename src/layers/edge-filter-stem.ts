import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LayerBase } from './layer-base';
import type { LrpLayerSpec } from '../attribution/lrp/layer-catalogue';
import { rules } from '../attribution/lrp/rules';
import { DEFAULT_FILTERS, type FilterSpec, resolveFilterBank } from './filter-banks';
import { imageInput, imageInputShape } from './image-shape';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** Options of {@link EdgeFilterStem}, plus tfjs's usual layer options (`name`, `inputShape`, ...). */
export interface EdgeFilterStemArgs extends LayerArgs {
  /**
   * The bank: filter names (see `FilterName`) or custom kernels (`number[][]`, any rectangular
   * size). Default: identity, Sobel x/y, Prewitt x/y, Laplacian.
   */
  filters?: FilterSpec[];
}

/**
 * A fixed, non-trainable bank of `F` filters applied depthwise to each of the `C` input channels
 * (Jung & Kwon 2020, "interpretable stem" with colour and edge filters). Output channel `c·F + f` is
 * filter `f` on colour `c` (colour-major), 'same' zero padding, stride 1, no bias:
 * `y[n, i, j, c·F + f] = Σ_{a,b} k_f[a, b] · x[n, i + a − p, j + b − p, c]`.
 *
 * Because every output channel belongs to exactly one colour and one filter, relevance at the stem
 * output splits exactly into colour and filter scores (see `stemScoresFromRelevance`).
 *
 * The layer holds no weights: its kernel is regenerated from the config, so a saved model stores only
 * the filter list. It runs as one ordinary `conv2d` with a block-diagonal kernel `[K, K, C, C·F]` (see
 * {@link EdgeFilterStem.kernel}) rather than `depthwiseConv2d`, because the wasm backend has no
 * depthwise backward kernel; the input gradient therefore works on every backend.
 *
 * LRP rule: give this layer the **WSquare** rule, `R_in = (W²)ᵀ[R / (W²·1)]` (Zennit's `WSquare`, with
 * the all-ones input padded by zeros like the image). The stem is the input layer and a fixed linear map,
 * so its rule only has to pass the relevance at its output to the pixels. WSquare does that conservatively
 * and input-independently: the denominator `Σ W²` over the in-image taps is positive wherever the
 * kernel reads a non-zero in-image weight, so `Σ R_in = Σ R` exactly (no data bounds as ZBox needs, and
 * no vanishing denominator on flat regions at the bounds, e.g. MNIST's black background, where ZBox
 * loses relevance); taps with zero weight get nothing (unlike Flat, which would also feed the unused
 * centre column of a Sobel filter); and relevance of channel `c·F + f` stays in colour `c`. The
 * input-dependence is already in the relevance arriving from the layers above.
 */
export class EdgeFilterStem extends LayerBase {
  /** The name tfjs's serialisation knows the class by (in saved `model.json` files). */
  static get className(): string {
    return 'EdgeFilterStem';
  }

  /**
   * LRP: a convolution with the fixed block-diagonal kernel and its own rule, WSquare, under every
   * composite. It is the first linear layer of its model, so a composite's first-layer rule (Flat,
   * ZBox) does not fall on the trainable convolution after it; `layerRules` can still override it.
   */
  static get lrpDescription(): LrpLayerSpec {
    return {
      expand(layer, builder, inputs) {
        const kernel = builder.own((layer as EdgeFilterStem).kernel());
        return builder.add({
          inputs,
          kind: 'conv',
          parameters: { weight: kernel, bias: null },
          forward: ([x], p) => tf.conv2d(x as tf.Tensor4D, p!.weight as tf.Tensor4D, 1, 'same'),
          rule: rules.wSquare(),
        });
      },
    };
  }

  /** The bank as configured (names and custom kernels). */
  readonly filters: FilterSpec[];
  /** One label per filter: its name, or `custom-<index>`. */
  readonly filterLabels: string[];
  /** Side of the square kernel every filter is embedded in (odd). */
  readonly kernelSize: number;
  private readonly bankKernels: Float32Array[];
  private channels: number | null = null;
  private kernelValues: Float32Array | null = null;

  constructor(args: EdgeFilterStemArgs = {}) {
    super({ ...args, trainable: false });
    const bank = resolveFilterBank(args.filters ?? [...DEFAULT_FILTERS]);
    this.filters = (args.filters ?? [...DEFAULT_FILTERS]).map((f) => (typeof f === 'string' ? f : f.map((r) => [...r])));
    this.filterLabels = bank.labels;
    this.kernelSize = bank.size;
    this.bankKernels = bank.kernels;
  }

  /** Number of filters `F` in the bank. */
  get filterCount(): number {
    return this.filters.length;
  }

  /** Number of input (colour) channels `C`; known once the layer is built. */
  get inputChannels(): number {
    if (this.channels === null) {
      throw new Error(`${this.who}: the input channel count is known only after the layer is built`);
    }
    return this.channels;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = imageInputShape(inputShape, this.who);
    const channels = shape[3];
    if (channels === null || channels === undefined || channels < 1) {
      throw new Error(`${this.who}: the channel dimension of the input must be known, got shape [${shape.join(', ')}]`);
    }
    this.channels = channels;
    this.kernelValues = this.layOutKernel(channels);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = imageInputShape(inputShape, this.who);
    const channels = shape[3];
    return [shape[0], shape[1], shape[2], channels === null ? null : channels * this.filterCount];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = imageInput(inputs, this.who);
      if (x.shape[3] !== this.inputChannels) {
        throw new Error(`${this.who}: built for ${this.inputChannels} input channels, got ${x.shape[3]}`);
      }
      return tf.conv2d(x, this.kernel(), 1, 'same');
    });
  }

  /**
   * The convolution kernel the layer applies, `[K, K, C, C·F]`: block-diagonal, with filter `f`'s
   * kernel at input channel `c`, output channel `c·F + f`, zeros elsewhere. A new tensor (caller
   * disposes it). For LRP rules, note that rules mapping zero weights to zero (WSquare, z⁺, ZBox) respect
   * the block structure, while Flat (all weights one) does not.
   */
  kernel(): tf.Tensor4D {
    if (this.kernelValues === null) {
      throw new Error(`${this.who}: kernel() needs the layer to be built (apply it to an input first)`);
    }
    const k = this.kernelSize;
    const c = this.inputChannels;
    return tf.tensor4d(this.kernelValues, [k, k, c, c * this.filterCount]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters.map((f) => (typeof f === 'string' ? f : f.map((r) => [...r]))) };
  }

  private get who(): string {
    return `EdgeFilterStem '${this.name}'`;
  }

  private layOutKernel(channels: number): Float32Array {
    const k = this.kernelSize;
    const f = this.filterCount;
    const out = new Float32Array(k * k * channels * channels * f);
    for (let tap = 0; tap < k * k; tap++) {
      for (let c = 0; c < channels; c++) {
        for (let j = 0; j < f; j++) {
          out[(tap * channels + c) * channels * f + c * f + j] = this.bankKernels[j][tap];
        }
      }
    }
    return out;
  }
}
