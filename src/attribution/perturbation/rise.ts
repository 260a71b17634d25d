/**
 * RISE, Randomized Input Sampling for Explanation (Petsiuk, Das, Saenko 2018): the saliency of pixel
 * `u` is the expected target score over random masks that keep `u`,
 * `S(u) = Σ_i f_c(x ⊙ M_i) · M_i(u) / (N · p)`.
 *
 * Each mask is an `s × s` grid of cells kept with probability `p`, bilinearly upsampled to
 * `(s + 1) · ⌈H/s⌉ × (s + 1) · ⌈W/s⌉` and cropped back to `H × W` at a random offset in
 * `[0, ⌈H/s⌉) × [0, ⌈W/s⌉)`, as in the authors' code. Works with any model, also one whose gradient
 * cannot be computed: only forward passes are used.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelLike } from '../../core/model';
import { renamedOption } from '../../core/deprecation';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { prepareCall } from '../../core/prepare';
import { assertInteger, assertNumberInRange } from '../../core/validate';
import { assertImageBatch, maskedScoreSaliency } from './mask-estimator';
import { seededInteger, seededUniforms } from './mask-random';
import { shiftedUpsampleInto } from './shifted-upsample';

/** Options of {@link rise}. */
export interface RiseOptions extends CommonOptions {
  /**
   * Number of random masks `N` per image (default 2000, the low end of the authors' 2000–6000: each
   * mask costs one forward pass, and 2000 keep an ImageNet-size call in the tens of seconds in a
   * browser; the sampling error of the map shrinks as `1/√N`).
   */
  samples?: number;
  /** Cells per side `s` of the low-resolution grid (default 8). */
  gridSize?: number;
  /** Probability `p` that a cell is kept (default 0.5). */
  keepProbability?: number;
  /** Seed of the masks: the same seed gives the same masks on every backend and for every `batchSize`. */
  seed?: number;
  /** @deprecated Renamed `samples` (one name for sample counts across methods); removed in the next release. */
  masks?: number;
}

const RISE_KEYS = optionKeys<RiseOptions>()('samples', 'masks', 'gridSize', 'keepProbability', 'seed', ...COMMON_OPTION_KEYS);

/**
 * RISE saliency of the target score, shaped like `x` (an image batch `[N, H, W]` or `[N, H, W, C]`;
 * the per-pixel map is repeated over the channels). All examples share the same masks.
 * @example
 * const map = await rise(model, images, { target: 281, samples: 4000, seed: 1, batchSize: 64 });
 */
export async function rise(model: ModelLike, x: tf.Tensor, options: RiseOptions = {}): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: RISE_KEYS, gradients: false });
  try {
    const masks = renamedOption<number>(options, 'samples', 'masks') ?? 2000;
    const gridSize = options.gridSize ?? 8;
    const keepProbability = options.keepProbability ?? 0.5;
    assertInteger(masks, 'options.samples', 1);
    assertInteger(gridSize, 'options.gridSize', 1);
    assertNumberInRange(keepProbability, 'options.keepProbability', { min: 0, max: 1, minExclusive: true });
    const seed = call.seed;
    const input = call.single('rise');
    assertImageBatch(input);
    const [height, width] = input.shape.slice(1);
    const cell = [Math.ceil(height / gridSize), Math.ceil(width / gridSize)];
    const upsampled: [number, number] = [(gridSize + 1) * cell[0], (gridSize + 1) * cell[1]];
    return await maskedScoreSaliency(call, {
      method: 'rise',
      masks,
      expectedMask: keepProbability,
      sample: (maskIndices) => {
        const cells = gridSize * gridSize;
        const grid = new Float32Array(cells);
        const values = new Float32Array(maskIndices.length * height * width);
        maskIndices.forEach((i, row) => {
          const uniforms = seededUniforms(cells, seed, i);
          for (let k = 0; k < cells; k++) grid[k] = uniforms[k] < keepProbability ? 1 : 0;
          const offset: [number, number] = [seededInteger(cell[0], seed, i, 1), seededInteger(cell[1], seed, i, 2)];
          shiftedUpsampleInto(values.subarray(row * height * width, (row + 1) * height * width), grid, [gridSize, gridSize], {
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
