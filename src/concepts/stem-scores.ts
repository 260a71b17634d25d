import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { lrp, type LrpOptions } from '../attribution/lrp/lrp';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { EdgeFilterStem } from '../layers/edge-filter-stem';

/** Colour, filter and pixel scores of an {@link EdgeFilterStem} model, per example. */
export interface StemScores {
  /** `[N, C]`: relevance per input (colour) channel, `S_c = Σ_{f,p} R[p, c·F + f]`. */
  colour: tf.Tensor2D;
  /** `[N, F]`: relevance per filter of the bank, `S_f = Σ_{c,p} R[p, c·F + f]`. */
  filter: tf.Tensor2D;
  /** `[N, H, W]`: relevance pushed through the stem with the WSquare rule, summed over colours. */
  pixel: tf.Tensor3D;
}

/** Options of {@link stemScoresFromRelevance}. */
export interface StemScoresOptions {
  /** Divide every score by the example's total relevance `Σ R` (default `false`; a zero total gives 0). */
  normalize?: boolean;
}

/** Options of {@link stemScores}: those of `lrp` (composite, epsilon, ...) and of the score sums. */
export interface StemModelScoresOptions extends Omit<LrpOptions, 'layer' | 'relevanceAt'>, StemScoresOptions {
  /** Name of the {@link EdgeFilterStem} layer; needed only when the model has several. */
  stem?: string;
}

/**
 * Colour, filter and pixel scores of a model with an {@link EdgeFilterStem} (Jung & Kwon 2020): LRP
 * from the target's score down to the stem's output (`lrp(model, x, { ...options, layer: stem })`,
 * default composite `'epsilon-plus-flat'`), summed by {@link stemScoresFromRelevance}:
 * `S_c = Σ_{f,p} R[p, c·F+f]`, `S_f = Σ_{c,p} R[p, c·F+f]`, `P_p = Σ_c R_in[p, c]` with `R_in` the
 * relevance pushed through the stem by its LRP rule, WSquare. The stem counts as the model's first
 * linear layer, so a composite's first-layer rule does not fall on the layer after it; the pixel map
 * equals `lrp(model, x, options)` summed over colours (up to the stabiliser ε = 1e−6).
 * Returns new tensors (caller disposes them).
 * @example
 * const { colour, filter, pixel } = await stemScores(model, images, { target: 3, normalize: true });
 */
export async function stemScores(model: tfl.LayersModel, x: tf.Tensor, options: StemModelScoresOptions = {}): Promise<StemScores> {
  if (!(model instanceof tfl.LayersModel)) {
    throw new GlassboxArgumentError('model', `stemScores needs a tf.LayersModel with an EdgeFilterStem layer, got ${describeValue(model)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new GlassboxArgumentError('options', `expected an object, got ${describeValue(options)}`);
  }
  const { stem: stemName, normalize, ...lrpOptions } = options;
  for (const key of ['layer', 'relevanceAt'] as const) {
    if ((lrpOptions as LrpOptions)[key] !== undefined) {
      throw new GlassboxArgumentError(`options.${key}`, 'stemScores takes the relevance at the stem; name the stem with options.stem');
    }
  }
  const stem = findStem(model, stemName);
  const relevance = await lrp(model, x, { ...lrpOptions, layer: stem.name });
  try {
    return stemScoresFromRelevance(relevance, stem, { normalize });
  } finally {
    relevance.dispose();
  }
}

/** The model's EdgeFilterStem: the one named `name`, or the only one (nested models searched). */
function findStem(model: tfl.LayersModel, name: string | undefined): EdgeFilterStem {
  if (name !== undefined && typeof name !== 'string') {
    throw new GlassboxArgumentError('options.stem', `expected a layer name, got ${describeValue(name)}`);
  }
  const stems: EdgeFilterStem[] = [];
  const visit = (container: tfl.LayersModel): void => {
    for (const layer of container.layers) {
      if (layer instanceof EdgeFilterStem) stems.push(layer);
      else if (layer instanceof tfl.LayersModel) visit(layer);
    }
  };
  visit(model);
  const names = stems.map((s) => `"${s.name}"`).join(', ');
  if (name !== undefined) {
    const named = stems.find((s) => s.name === name);
    if (!named) {
      throw new GlassboxArgumentError('options.stem', `no EdgeFilterStem named "${name}" in the model; its stems: ${names || 'none'}`);
    }
    return named;
  }
  if (stems.length === 0) {
    throw new GlassboxArgumentError('model', `stemScores needs a model with an EdgeFilterStem layer; model "${model.name}" has none`);
  }
  if (stems.length > 1) {
    throw new GlassboxArgumentError('options.stem', `the model has ${stems.length} EdgeFilterStem layers (${names}); name one`);
  }
  return stems[0];
}

/**
 * Sums the relevance `R` at an {@link EdgeFilterStem}'s output `[N, H, W, C·F]` (colour-major channels,
 * as the stem lays them out) into colour scores, filter scores and a pixel map (Jung & Kwon 2020):
 * `S_c = Σ_{f,p} R[p, c·F+f]`, `S_f = Σ_{c,p} R[p, c·F+f]`, and
 * `P = Σ_c R_in[·, c]` with `R_in` = `R` pushed through the stem by the WSquare rule (see
 * {@link stemInputRelevance}). All three conserve relevance: `Σ S_c = Σ S_f = Σ P = Σ R` per example
 * (for `P`, see the padding caveat there).
 * Returns new tensors (caller disposes them).
 *
 * This is the score-summing half of {@link stemScores}; use it directly with relevance from another
 * attribution of the layers above the stem.
 */
export function stemScoresFromRelevance(
  relevance: tf.Tensor,
  stem: EdgeFilterStem,
  options: StemScoresOptions = {},
): StemScores {
  const { normalize = false } = options;
  if (typeof normalize !== 'boolean') {
    throw new Error(`stemScoresFromRelevance: options.normalize must be a boolean, got ${String(normalize)}`);
  }
  const n = checkRelevance(relevance, stem, 'stemScoresFromRelevance');
  const c = stem.inputChannels;
  const f = stem.filterCount;
  const [colour, filter, pixel] = tf.tidy(() => {
    const perChannel = tf.reshape(tf.sum(relevance, [1, 2]), [n, c, f]);
    const scores = [tf.sum(perChannel, 2), tf.sum(perChannel, 1), tf.sum(pushThroughStem(relevance as tf.Tensor4D, stem), 3)];
    if (!normalize) return scores;
    const total = tf.sum(scores[0], 1);
    return scores.map((s) => tf.divNoNan(s, tf.reshape(total, [n, ...s.shape.slice(1).map(() => 1)])));
  });
  return { colour: colour as tf.Tensor2D, filter: filter as tf.Tensor2D, pixel: pixel as tf.Tensor3D };
}

/**
 * The LRP rule of {@link EdgeFilterStem}: WSquare (Zennit), pushing relevance `R` at the stem output
 * `[N, H, W, C·F]` back to the stem input `[N, H, W, C]`:
 * `R_in = (W²)ᵀ [R / (W² ⋆ 1)]`, where `W` is the stem's kernel, `⋆` its 'same' convolution and `1` an
 * all-ones image padded with zeros like the input. Input-independent and exactly conservative
 * (`Σ R_in = Σ R`) except at outputs whose non-zero taps all fall in the zero padding (e.g. `roberts-y`,
 * which reads the right and lower neighbours, at the bottom-right corner): such an output is identically
 * zero, so any activation-weighted rule above gives it no relevance; relevance put there anyway is
 * dropped. Returns a new tensor (caller disposes it).
 */
export function stemInputRelevance(relevance: tf.Tensor, stem: EdgeFilterStem): tf.Tensor4D {
  checkRelevance(relevance, stem, 'stemInputRelevance');
  return tf.tidy(() => pushThroughStem(relevance as tf.Tensor4D, stem));
}

function pushThroughStem(relevance: tf.Tensor4D, stem: EdgeFilterStem): tf.Tensor4D {
  const [n, h, w] = relevance.shape;
  const squared = tf.square(stem.kernel());
  const denominator = tf.conv2d(tf.ones([1, h, w, stem.inputChannels]) as tf.Tensor4D, squared, 1, 'same');
  const ratio = tf.divNoNan(relevance, denominator) as tf.Tensor4D;
  return tf.conv2dTranspose(ratio, squared, [n, h, w, stem.inputChannels], 1, 'same');
}

/** Validates the relevance against the stem; returns the batch size. */
function checkRelevance(relevance: tf.Tensor, stem: EdgeFilterStem, who: string): number {
  if (!(stem instanceof EdgeFilterStem)) {
    throw new Error(`${who}: stem must be an EdgeFilterStem layer, got ${describe(stem)}`);
  }
  if (!(relevance instanceof tf.Tensor)) {
    throw new Error(`${who}: relevance must be a tf.Tensor [N, H, W, C·F], got ${describe(relevance)}`);
  }
  const expected = stem.inputChannels * stem.filterCount;
  if (relevance.rank !== 4 || relevance.shape[3] !== expected) {
    throw new Error(
      `${who}: relevance must have shape [N, H, W, ${expected}] (the stem's ${stem.inputChannels} colours × ` +
        `${stem.filterCount} filters), got [${relevance.shape.join(', ')}]`,
    );
  }
  return relevance.shape[0];
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return (value as object).constructor?.name ?? 'an object';
}
