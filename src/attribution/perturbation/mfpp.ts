/**
 * MFPP, Morphological Fragmental Perturbation Pyramid (Yang, Zhu, Ji 2020): RISE's estimator with
 * masks made of superpixel fragments at several scales,
 * `S(u) = Σ_i s(x ⊙ M_i) · M_i(u) / (N · (1 − p))`.
 *
 * As in the authors' code: the image is segmented with SLIC into `50 · 2^l` fragments for levels
 * `l = 0 .. 4` (compactness 10, σ = 1), once per image and level; the masks are split evenly across the
 * levels; in each mask a fragment is dropped with probability `p = 0.5`; the fragment mask is bilinearly
 * upsampled by `1 + 2.0` and cropped back to the image size at a random offset (soft, shifted edges);
 * the score is the sigmoid of the target logit.
 *
 * Differences from the authors' code, none of which changes the map's shape: the sum is divided by
 * `N · (1 − p)` instead of `N` (so a constant model gets its constant everywhere, as with RISE); every
 * mask draws its own fragments (the code shares one draw across a batch of masks, so its results depend
 * on the batch size); fragments are dropped rather than kept with probability `p` (the same for
 * p = 0.5).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '../../core/model';
import { renamedOption } from '../../core/deprecation';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { assertInteger, assertNumberInRange, assertOneOf } from '../../core/validate';
import { assertImageBatch, maskedScoreSaliency } from './mask-estimator';
import { seededInteger, seededUniforms } from './mask-random';
import { shiftedUpsampleInto } from './shifted-upsample';
import { SCORE_TRANSFORMS, scoredEvaluator, type ScoreTransform } from '../../core/score-transform';
import { slicPixels, type Superpixels } from './superpixels';

/**
 * @deprecated The score transforms are {@link SCORE_TRANSFORMS} for every method; removed in the next release.
 */
export const MFPP_SCORES = SCORE_TRANSFORMS;
/** @deprecated Use {@link ScoreTransform}; removed in the next release. */
export type MfppScore = ScoreTransform;

/** Options of {@link mfpp}. */
export interface MfppOptions extends CommonOptions {
  /**
   * Number of random masks `N` per image, split evenly across the levels (default 2000; the authors use
   * 8000–20000 with PyTorch on a GPU, we default lower because each mask costs one forward pass in the
   * browser; the sampling error shrinks as `1/√N`).
   */
  samples?: number;
  /** Pyramid levels (default 5). */
  levels?: number;
  /** SLIC segments requested at level 0; level `l` asks for `baseSegments · 2^l` (default 50). */
  baseSegments?: number;
  /** Probability `p` that a fragment is dropped from a mask (default 0.5). */
  dropProbability?: number;
  /** Seed of the masks: the same seed gives the same masks on every backend and for every `batchSize`. */
  seed?: number;
  /**
   * Score per masked input, applied to the model output before the target picks it: `'sigmoid'`
   * (default, the authors' choice for logits), `'softmax'` (over the last axis), or `'none'` (the output
   * as it is; use it for models that already output probabilities).
   */
  score?: ScoreTransform;
  /**
   * Fragment masks are upsampled to `(1 + resizeOffset)` times the image size and cropped back at a
   * random offset in `[0, resizeOffset · size]` (default 2.0, as the authors). 0 keeps the fragment
   * edges exactly where SLIC put them.
   */
  resizeOffset?: number;
  /** SLIC compactness (default 10). */
  compactness?: number;
  /** SLIC pre-smoothing: the standard deviation of its Gaussian blur, in pixels (default 1). */
  smoothing?: number;
  /** @deprecated Renamed `samples` (one name for sample counts across methods); removed in the next release. */
  masks?: number;
  /** @deprecated Renamed `smoothing` (`sigma` is the noise σ elsewhere); removed in the next release. */
  sigma?: number;
}

const MFPP_KEYS = optionKeys<MfppOptions>()(
  'samples',
  'masks',
  'levels',
  'baseSegments',
  'dropProbability',
  'seed',
  'score',
  'resizeOffset',
  'compactness',
  'smoothing',
  'sigma',
  ...COMMON_OPTION_KEYS,
);

/**
 * MFPP saliency of the target score, shaped like `x` (an image batch `[N, H, W]` or `[N, H, W, C]`;
 * the per-pixel map is repeated over the channels). Only forward passes are used. The segmentation
 * runs once per image and level; `onProgress` counts masked forward passes.
 * @example
 * const map = await mfpp(model, images, { target: 281, samples: 4000, seed: 1, score: 'softmax' });
 */
export async function mfpp(model: ModelLike, x: tf.Tensor, options: MfppOptions = {}): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: MFPP_KEYS, gradients: false });
  try {
    const masks = renamedOption<number>(options, 'samples', 'masks') ?? 2000;
    const levels = options.levels ?? 5;
    const baseSegments = options.baseSegments ?? 50;
    const dropProbability = options.dropProbability ?? 0.5;
    const score = options.score ?? 'sigmoid';
    const resizeOffset = options.resizeOffset ?? 2;
    assertInteger(masks, 'options.samples', 1);
    assertInteger(levels, 'options.levels', 1);
    assertInteger(baseSegments, 'options.baseSegments', 1);
    assertNumberInRange(dropProbability, 'options.dropProbability', { min: 0, max: 1, maxExclusive: true });
    assertOneOf(score, 'options.score', SCORE_TRANSFORMS);
    assertNumberInRange(resizeOffset, 'options.resizeOffset', { min: 0 });
    const seed = call.seed;
    const input = call.single('mfpp');
    assertImageBatch(input);
    const [height, width] = input.shape.slice(1);
    const segmentations = await segmentPyramid(input, levels, baseSegments, options);
    const upsampled: [number, number] = [height + Math.floor(resizeOffset * height), width + Math.floor(resizeOffset * width)];
    const levelOf = (i: number): number => Math.floor((i * levels) / masks);
    const fragmentMap = new Float32Array(height * width);
    return await maskedScoreSaliency(call, {
      method: 'mfpp',
      masks,
      expectedMask: 1 - dropProbability,
      evaluator: scoredEvaluator(call.evaluator, score),
      sample: (maskIndices, examples) => {
        const values = new Float32Array(maskIndices.length * height * width);
        maskIndices.forEach((maskIndex, row) => {
          const { labels, count } = segmentations[examples[row]][levelOf(maskIndex)];
          const kept = seededUniforms(count, seed, maskIndex).map((u) => (u >= dropProbability ? 1 : 0));
          for (let p = 0; p < fragmentMap.length; p++) fragmentMap[p] = kept[labels[p]];
          const offset: [number, number] = [
            seededInteger(upsampled[0] - height + 1, seed, maskIndex, 1),
            seededInteger(upsampled[1] - width + 1, seed, maskIndex, 2),
          ];
          shiftedUpsampleInto(values.subarray(row * height * width, (row + 1) * height * width), fragmentMap, [height, width], {
            upsampled,
            output: [height, width],
            offset,
          });
        });
        return values;
      },
    });
  } finally {
    call.dispose();
  }
}

/**
 * SLIC segmentations of every image (`[N, H, W]` or `[N, H, W, C]`) at every level:
 * `result[example][level]` with `baseSegments · 2^level` segments requested. Reads the batch once.
 */
export async function segmentPyramid(
  images: tf.Tensor,
  levels: number,
  baseSegments: number,
  options: { compactness?: number; smoothing?: number; sigma?: number } = {},
): Promise<Superpixels[][]> {
  const [count, height, width, channels = 1] = images.shape;
  const data = await images.data();
  const size = height * width * channels;
  return Array.from({ length: count }, (_, e) => {
    const image = { data: data.subarray(e * size, (e + 1) * size), height, width, channels };
    return Array.from({ length: levels }, (_, level) =>
      slicPixels(image, {
        segments: baseSegments * 2 ** level,
        compactness: options.compactness ?? 10,
        smoothing: renamedOption<number>(options, 'smoothing', 'sigma') ?? 1,
      }),
    );
  });
}
