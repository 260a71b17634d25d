/**
 * Adaptive noising for SmoothTaylor (Goh et al. 2020): per example, search the noise scale σ that
 * minimises a heatmap objective — by default the average total variation, or any objective you pass
 * (e.g. an area under a perturbation curve). The search follows the authors' code: start at σ = mean|x|,
 * step 0.1 (tried up, else down), step decay 0.9 after a non-improving move, stop after 3 non-improving
 * moves in a row or 20 iterations; the best σ seen wins. Every candidate uses the same seeded roots, so
 * candidates differ only in σ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { renamedOption } from '../core/deprecation';
import { describeValue, GlassboxArgumentError, throwIfAborted } from '../core/errors';
import { prepareInputs } from '../core/inputs';
import { resolveModel, type ModelLike } from '../core/model';
import { optionKeys } from '../core/option-keys';
import { checkOptions, COMMON_OPTION_KEYS } from '../core/options';
import { seedOption } from '../core/seeded-random';
import { resolveTarget } from '../core/target';
import { assertInteger, assertNumberInRange } from '../core/validate';
import { totalVariation } from '../metrics/total-variation';
import { smoothTaylor, type SmoothTaylorOptions } from './smooth-taylor';

/** A heatmap objective to minimise: one number for one example's attribution `[1, ...]`. */
export type NoiseObjective = (attribution: tf.Tensor, example: tf.Tensor) => Promise<number>;

/** Options of {@link adaptiveSmoothTaylor}. */
export interface AdaptiveSmoothTaylorOptions extends Omit<SmoothTaylorOptions, 'stdev' | 'noiseScale' | 'noiseLevel'> {
  /** Objective to minimise (default: average total variation, {@link totalVariation}). */
  objective?: NoiseObjective;
  /** Initial step of σ (default 0.1). */
  learningRate?: number;
  /** Step decay after a non-improving move (default 0.9). */
  decay?: number;
  /** Stop after this many non-improving moves in a row (default 3). */
  patience?: number;
  /** Most search iterations (default 20). */
  maxIterations?: number;
}

/** Result of {@link adaptiveSmoothTaylor}. */
export interface AdaptiveSmoothTaylorResult {
  /** SmoothTaylor attribution at each example's best σ, shaped like `x` (caller disposes). */
  attribution: tf.Tensor;
  /** The chosen σ per example (the `stdev` each example's SmoothTaylor used). */
  stdevs: number[];
  /** @deprecated Renamed `stdevs`; removed in the next release. */
  noiseScales: number[];
  /** The objective at the chosen σ per example. */
  objectives: number[];
}

const ADAPTIVE_KEYS = optionKeys<AdaptiveSmoothTaylorOptions>()(
  'objective',
  'learningRate',
  'decay',
  'patience',
  'maxIterations',
  'samples',
  'roots',
  'seed',
  ...COMMON_OPTION_KEYS,
);

/** SmoothTaylor with the noise scale searched per example (see the module description). */
export async function adaptiveSmoothTaylor(
  model: ModelLike,
  x: tf.Tensor,
  options: AdaptiveSmoothTaylorOptions = {},
): Promise<AdaptiveSmoothTaylorResult> {
  const common = checkOptions(options, ADAPTIVE_KEYS);
  const learningRate = options.learningRate ?? 0.1;
  assertNumberInRange(learningRate, 'options.learningRate', { min: 0, minExclusive: true });
  const decay = options.decay ?? 0.9;
  assertNumberInRange(decay, 'options.decay', { min: 0, max: 1, minExclusive: true });
  const patience = options.patience ?? 3;
  assertInteger(patience, 'options.patience', 0);
  const maxIterations = options.maxIterations ?? 20;
  assertInteger(maxIterations, 'options.maxIterations', 0);
  const objective = options.objective ?? totalVariationObjective;
  if (typeof objective !== 'function') {
    throw new GlassboxArgumentError('options.objective', `expected a function (attribution, example) => Promise<number>, got ${describeValue(objective)}`);
  }
  const seed = seedOption(options.seed);
  // The search reads x once per example over many awaits: it works on a snapshot.
  const batch = await prepareInputs(x, resolveModel(model, common.output));
  const samples = renamedOption<number>(options, 'samples', 'roots');
  const smoothTaylorOptions = { samples, output: common.output, batchSize: common.batchSize, signal: common.signal };

  const best: tf.Tensor[] = [];
  const stdevs: number[] = [];
  const objectives: number[] = [];
  try {
    const input = batch.tensors[0];
    const n = batch.numExamples;
    const selector = await resolveTarget(options.target, n);
    for (let e = 0; e < n; e++) {
      const example = tf.slice(input, e, 1);
      try {
        const target = selector.indices === null ? options.target : selector.indices[e];
        const evaluate = async (sigma: number) => {
          throwIfAborted(common.signal);
          const attribution = await smoothTaylor(model, example, { ...smoothTaylorOptions, target, seed, stdev: sigma });
          return { sigma, attribution, score: await objective(attribution, example) };
        };
        const meanAbs = tf.tidy(() => tf.mean(tf.abs(example)));
        const start = (await meanAbs.data())[0];
        meanAbs.dispose();
        const result = await searchNoise(evaluate, start, { learningRate, decay, patience, maxIterations });
        best.push(result.attribution);
        stdevs.push(result.sigma);
        objectives.push(result.score);
        common.onProgress?.(e + 1, n);
      } finally {
        example.dispose();
      }
    }
    throwIfAborted(common.signal);
    return { attribution: tf.concat(best, 0), stdevs, noiseScales: stdevs, objectives };
  } finally {
    best.forEach((t) => t.dispose());
    batch.dispose();
  }
}

interface Candidate {
  sigma: number;
  attribution: tf.Tensor;
  score: number;
}

/** The authors' σ search; keeps only the best candidate's attribution alive. */
async function searchNoise(
  evaluate: (sigma: number) => Promise<Candidate>,
  start: number,
  settings: { learningRate: number; decay: number; patience: number; maxIterations: number },
): Promise<Candidate> {
  let best = await evaluate(start);
  let current = best.sigma;
  let currentScore = best.score;
  let step = settings.learningRate;
  let nonImproving = 0;
  const consider = (candidate: Candidate): void => {
    if (candidate.score < best.score) {
      best.attribution.dispose();
      best = candidate;
    } else candidate.attribution.dispose();
  };
  try {
    for (let iteration = 1; iteration <= settings.maxIterations; iteration++) {
      let search = await evaluate(Math.abs(current + step));
      if (search.score > currentScore) {
        consider(search);
        search = await evaluate(Math.abs(current - step));
      }
      current = search.sigma;
      const worse = search.score > currentScore;
      currentScore = search.score;
      consider(search);
      if (worse) {
        if (nonImproving >= settings.patience) break;
        step *= settings.decay;
        nonImproving++;
      } else nonImproving = 0;
    }
    return best;
  } catch (error) {
    best.attribution.dispose();
    throw error;
  }
}

async function totalVariationObjective(attribution: tf.Tensor): Promise<number> {
  if (attribution.rank < 3) {
    const flat = tf.tidy(() => tf.sum(tf.abs(tf.sub(tf.slice(attribution, [0, 1], [-1, -1]), tf.slice(attribution, [0, 0], [-1, attribution.size - 1])))));
    const value = (await flat.data())[0];
    flat.dispose();
    return value;
  }
  const atv = totalVariation(attribution);
  const value = (await atv.data())[0];
  atv.dispose();
  return value;
}
