/**
 * Information analysis of a network's layers (Xu et al. 2018, "Deeper Interpretability of Deep
 * Networks"), with the Gaussian-copula estimators of Ince et al. 2017: for every requested layer and
 * every generative factor, the information of each unit (its distribution over the layer), the
 * information of the layer's most informative units together, the significance of each unit by a
 * permutation test with the maximum statistic over the layer's units (family-wise error), and for
 * pairs of factors the layer's invariance `I(L; a | b)` and co-information `I(L; a) − I(L; a | b)`.
 *
 * Memory: the copula transform needs all N values of a unit, so the activations are gathered in
 * windows of units holding at most `maxActivationValues` values (see `activation-windows.ts`); a layer
 * larger than that costs further passes of the model over the data, not memory. Every statistic of a
 * window (the observed and all permuted ones) comes out of the same matMuls, and only per-unit numbers
 * and the best candidates' raw columns are kept between windows.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tapLayers } from '../attribution/layer-gradients';
import { describeValue, GlassboxArgumentError, throwIfAborted } from '../core/errors';
import { prepareInputs } from '../core/inputs';
import { resolveModel } from '../core/model';
import { batchSizeOption, progressOption, signalOption, type BatchSize } from '../core/options';
import { resolveTarget } from '../core/target';
import { deriveSeed, seedOption } from '../core/seeded-random';
import { assertKnownOptions } from '../core/option-keys';
import { assertInteger, assertNumberInRange } from '../core/validate';
import { gatherPass, layerShapes, planPasses, type UnitWindow } from './activation-windows';
import { copulaColumns } from './copnorm';
import { conditionalLayerInformation, type FactorData } from './factor-pairs';
import { prepareFactor, type Factor, type PreparedFactor } from './factor';
import { estimateGcmi } from './gcmi';
import { estimateGcmiDiscrete } from './gcmi-discrete';
import { seededPermutation, type TieBreak } from './ranks';
import { TIE_WARNING_SHARE } from './ties';
import { SATURATING } from './estimator-mode';
import { UnitCandidates } from './top-units';
import { scoreVariance, unitInformationBlocks } from './unit-information';

/** Options of {@link layerInformation}. */
export interface LayerInformationOptions {
  /** Names of the layers to analyse (layers of nested models by their own names). */
  layers: string[];
  /** Examples through the model at once, or `'auto'` (default, see the engine guide). Results do not depend on it. */
  batchSize?: BatchSize;
  /** Permutations of each factor for the significance test (default 0: no test). */
  permutations?: number;
  /** Family-wise error level of the significance summary (default 0.05). */
  alpha?: number;
  /** How many of a layer's most informative units form its whole-layer estimate (default 8). */
  topUnits?: number;
  /** Bins of the histograms of unit information (default 20). */
  bins?: number;
  /**
   * Factor pairs `[a, b]` for the invariance `I(L; a | b)` and co-information; `'all'` (default) takes
   * every ordered pair, `[]` none.
   */
  pairs?: [string, string][] | 'all';
  /** Break ties (ReLU zeros) at random, seeded (default `true`); `false` keeps gcmi's sample order. */
  jitter?: boolean;
  /** Seed of the permutations and the jitter; a random one when omitted. */
  seed?: number;
  /** Most activation values held at once (default 2²³ = 32 MiB of float32); see the module notes. */
  maxActivationValues?: number;
  /** Called after every batch with the examples processed (over all passes) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects with an `AbortError` and leaks nothing. */
  signal?: AbortSignal;
}

/** A histogram: `counts[i]` values in `[edges[i], edges[i + 1])` (the last bin includes its right edge). */
export interface Histogram {
  /** `bins + 1` equally spaced edges, in bits, from min(0, smallest value) to the largest value. */
  edges: number[];
  /** Number of units per bin. */
  counts: number[];
}

/** Significance of every unit by permutation, with the maximum statistic over the layer's units. */
export interface UnitSignificance {
  /** Family-wise corrected p-value of every unit: `(1 + #{p : max_u I_p(u) ≥ I(u)}) / (1 + P)`. */
  pValues: Float32Array;
  /** The `1 − alpha` quantile of the permutation maxima: units above it are significant. */
  threshold: number;
  /** Units with `pValue ≤ alpha`. */
  significantUnits: number;
  /** The maximum over units of every permutation's information, `[P]`. */
  permutationMaxima: Float32Array;
}

/** One layer's information about one factor. */
export interface FactorInformation {
  /** Information (bits) of every unit, in the layer's flattened order. */
  unitInformation: Float32Array;
  /** Mean information of a unit (bits). */
  mean: number;
  /** Largest information of a unit (bits), that of `maxUnit`. */
  max: number;
  /** The unit with the most information. */
  maxUnit: number;
  /** Distribution of `unitInformation` over the layer's units (`bins` bins). */
  histogram: Histogram;
  /** The units of the whole-layer estimate, most informative first. */
  topUnits: number[];
  /** Information (bits) of the `topUnits` together (multivariate Gaussian-copula estimate). */
  topUnitsInformation: number;
  /** Present when `permutations > 0`. */
  significance: UnitSignificance | null;
}

/** Invariance and co-information of a layer with the factors `factor` and `given`. */
export interface FactorPairInformation {
  /** The factor `a` whose information is measured. */
  factor: string;
  /** The factor `b` conditioned on (the nuisance). */
  given: string;
  /** `I(L; factor)` with L the top units for `factor` (= its `topUnitsInformation`). */
  information: number;
  /** `I(L; factor | given)`, or null when it cannot be estimated (see `note`). */
  conditional: number | null;
  /** `information − conditional`: > 0 redundancy with `given`, < 0 synergy. */
  coInformation: number | null;
  /** Why `conditional` is null (e.g. a class of `given` with too few samples). */
  note?: string;
}

/** One layer's tables. */
export interface LayerInformation {
  /** The layer's name, as given in `options.layers`. */
  layer: string;
  /** Shape of the layer's output for one example. */
  shape: number[];
  /** Number of units: the elements of the layer's output for one example (product of `shape`). */
  units: number;
  /** Share of units with more than 10 % repeated values (e.g. ReLU zeros). */
  tiedUnits: number;
  /** The layer's information about each factor, by factor name. */
  factors: Record<string, FactorInformation>;
  /** Invariance and co-information for each pair of `options.pairs`. */
  pairs: FactorPairInformation[];
}

/** The result of {@link layerInformation}: plain numbers, no tensors. */
export interface LayerInformationResult {
  /** One table per layer, in the order of `options.layers`. */
  layers: LayerInformation[];
  /** The factor names, in the order of the `factors` argument. */
  factors: string[];
  /** N, the number of examples. */
  samples: number;
  /** Permutations per factor of the significance test (0: no test). */
  permutations: number;
  /** How many passes of the model over the data the memory bound needed. */
  passes: number;
}

const OPTION_KEYS = [
  'layers', 'batchSize', 'permutations', 'alpha', 'topUnits', 'bins', 'pairs', 'jitter', 'seed', 'maxActivationValues', 'onProgress', 'signal',
] as const;

/**
 * Per layer × factor information tables of `model` on the examples `x` (see {@link LayerInformation}).
 * `factors` maps names to discrete `{ labels, numClasses }` or continuous `{ values }` variables, one
 * value per example. Units are the elements of a layer's output (every position and channel of a
 * convolution).
 */
export async function layerInformation(
  model: tfl.LayersModel,
  x: tf.Tensor,
  factors: Record<string, Factor>,
  options: LayerInformationOptions,
): Promise<LayerInformationResult> {
  const settings = readOptions(options);
  const resolved = resolveModel(model);
  if (resolved.layersModel === null) throw new GlassboxArgumentError('model', `expected a tf.LayersModel (its layers are tapped by name), got ${describeValue(model)}`);
  if (factors === null || typeof factors !== 'object' || Object.keys(factors).length === 0) {
    throw new GlassboxArgumentError('factors', `expected an object of named factors ({ name: { labels, numClasses } | { values } }), got ${describeValue(factors)}`);
  }
  const names = Object.keys(factors);
  const pairs = resolvePairs(settings.pairs, names);
  const tapped = tapLayers(resolved, options.layers, 'options.layers', 'layerInformation');
  // x is snapshotted (float32) and checked against the model; the model runs forward only.
  const batch = await prepareInputs(x, resolved);
  const input = batch.tensors[0];
  const n = batch.numExamples;
  const evaluator = { model: resolved, target: await resolveTarget(undefined, n), seed: settings.seed };
  const permutations = Array.from({ length: settings.permutations }, (_, p) => seededPermutation(n, deriveSeed(settings.seed, 1, p)));
  const prepared: PreparedFactor[] = [];
  const accumulators: LayerAccumulator[] = [];
  try {
    for (const [i, name] of names.entries()) {
      prepared.push(await prepareFactor(factors[name], n, `factors.${name}`, { permutations, tieBreak: tieBreakOf(settings, 2, i), quiet: true }));
    }
    const shapes = layerShapes(evaluator, tapped, input);
    const unitCounts = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
    unitCounts.forEach((units) => accumulators.push(new LayerAccumulator(units, names.length, settings)));
    const passes = planPasses(unitCounts, Math.max(1, Math.floor(settings.maxActivationValues / n)));
    const context: AnalysisContext = { settings, factors: prepared, variance: await scoreVariance(n) };
    for (const [p, pass] of passes.entries()) {
      const windows = await gatherPass(evaluator, tapped, input, pass, {
        batchSize: settings.batchSize,
        signal: settings.signal,
        onBatch: (done) => settings.onProgress?.(p * n + done, passes.length * n),
      });
      try {
        for (const [w, window] of pass.entries()) {
          throwIfAborted(settings.signal);
          await accumulators[window.layer].measure(windows[w], window, context);
        }
      } finally {
        tf.dispose(windows);
      }
    }
    const layers: LayerInformation[] = [];
    for (const [l, layer] of options.layers.entries()) {
      throwIfAborted(settings.signal);
      layers.push(await accumulators[l].table(layer, shapes[l], l, names, pairs, context));
    }
    return { layers, factors: names, samples: n, permutations: settings.permutations, passes: passes.length };
  } finally {
    batch.dispose();
    prepared.forEach((factor) => factor.dispose());
    accumulators.forEach((accumulator) => accumulator.dispose());
  }
}

type Settings = ReturnType<typeof readOptions>;

/** What every window and table of one analysis shares. */
interface AnalysisContext {
  settings: Settings;
  factors: PreparedFactor[];
  /** The variance of every copula-normalised unit ({@link scoreVariance}). */
  variance: number;
}

/** The running per-unit numbers of one layer, and the best candidates of each factor. */
class LayerAccumulator {
  private readonly repeats: Float32Array;
  private readonly information: Float32Array[];
  private readonly maxima: Float32Array[];
  private readonly candidates: UnitCandidates[];

  constructor(private readonly units: number, factors: number, settings: Settings) {
    this.repeats = new Float32Array(units);
    this.information = Array.from({ length: factors }, () => new Float32Array(units));
    this.maxima = Array.from({ length: factors }, () => new Float32Array(settings.permutations).fill(-Infinity));
    this.candidates = Array.from({ length: factors }, () => new UnitCandidates(2 * settings.topUnits));
  }

  /**
   * Takes in a window of units `[count, N]`: their shares of ties, their information with every factor,
   * the running maximum over units of every permutation's information, the running best candidates.
   * One read-back per window.
   */
  async measure(activations: tf.Tensor2D, { layer, start, count }: UnitWindow, { settings, factors, variance }: AnalysisContext): Promise<void> {
    const permutations = settings.permutations;
    const packed = tf.tidy(() => {
      const copula = copulaColumns(activations, settings.jitter ? { seed: deriveSeed(settings.seed, 3, layer), firstColumn: start } : null);
      const parts: tf.Tensor[] = [copula.repeats];
      for (const factor of factors) {
        const blocks = unitInformationBlocks(copula.scores, factor, variance);
        parts.push(tf.reshape(tf.slice(blocks, [0, 0], [count, 1]), [count]));
        if (permutations > 0) parts.push(tf.max(tf.slice(blocks, [0, 1], [count, permutations]), 0));
      }
      return tf.concat(parts);
    });
    const values = await packed.data().finally(() => packed.dispose());
    this.repeats.set(values.subarray(0, count), start);
    let offset = count;
    factors.forEach((_, f) => {
      const observed = values.subarray(offset, offset + count);
      this.information[f].set(observed, start);
      this.candidates[f].offer(activations, start, observed);
      offset += count;
      for (let q = 0; q < permutations; q++) this.maxima[f][q] = Math.max(this.maxima[f][q], values[offset + q]);
      offset += permutations;
    });
  }

  /** The layer's table: per factor the unit statistics and the top units' information, then the pairs. */
  async table(layer: string, shape: number[], index: number, names: string[], pairs: [string, string][], { settings, factors }: AnalysisContext): Promise<LayerInformation> {
    const table: LayerInformation = {
      layer,
      shape,
      units: this.units,
      tiedUnits: this.repeats.reduce((s, r) => s + (r > TIE_WARNING_SHARE ? 1 : 0), 0) / this.units,
      factors: {},
      pairs: [],
    };
    const data = factors.map(factorDataOf);
    const topUnits: tf.Tensor2D[] = [];
    try {
      for (const [f, name] of names.entries()) {
        const chosen = await this.candidates[f].select(wholeLayerSize(factors[f], settings.topUnits, this.units), tieBreakOf(settings, 4, index));
        topUnits.push(chosen.activations);
        const ties = { jitter: settings.jitter, seed: deriveSeed(settings.seed, 5, index, f) };
        const factor = data[f];
        const whole =
          factor.kind === 'discrete'
            ? await estimateGcmiDiscrete(chosen.activations, factor.labels, factor.numClasses, ties, SATURATING)
            : await estimateGcmi(chosen.activations, factor.values, ties, SATURATING);
        const information = this.information[f];
        table.factors[name] = {
          unitInformation: information,
          ...summary(information),
          histogram: histogram(information, settings.bins),
          topUnits: chosen.units,
          topUnitsInformation: whole,
          significance: settings.permutations > 0 ? significance(information, this.maxima[f], settings.alpha) : null,
        };
      }
      for (const [a, b] of pairs) {
        const [fa, fb] = [names.indexOf(a), names.indexOf(b)];
        const ties = { jitter: settings.jitter, seed: deriveSeed(settings.seed, 6, index, fa, fb) };
        const estimate = await conditionalLayerInformation(topUnits[fa], data[fa], data[fb], ties);
        const information = table.factors[a].topUnitsInformation;
        table.pairs.push({
          factor: a,
          given: b,
          information,
          conditional: estimate.value,
          coInformation: estimate.value === null ? null : information - estimate.value,
          ...(estimate.note === undefined ? {} : { note: estimate.note }),
        });
      }
    } finally {
      tf.dispose(topUnits);
    }
    return table;
  }

  dispose(): void {
    this.candidates.forEach((c) => c.dispose());
  }
}

/** The seeded tie-breaking of stream `stream`, item `index` of an analysis, or null without jitter. */
function tieBreakOf(settings: Settings, stream: number, index: number): TieBreak | null {
  return settings.jitter ? { seed: deriveSeed(settings.seed, stream, index), firstColumn: 0 } : null;
}

/** Validated options with their defaults. */
function readOptions(options: LayerInformationOptions) {
  if (options === null || typeof options !== 'object') throw new GlassboxArgumentError('options', `expected an object with layers, got ${describeValue(options)}`);
  assertKnownOptions(options, OPTION_KEYS);
  if (!Array.isArray(options.layers) || options.layers.length === 0) {
    throw new GlassboxArgumentError('options.layers', `expected a non-empty array of layer names, got ${describeValue(options.layers)}`);
  }
  const { permutations = 0, alpha = 0.05, topUnits = 8, bins = 20, jitter = true, maxActivationValues = 2 ** 23 } = options;
  assertInteger(permutations, 'options.permutations', 0);
  assertNumberInRange(alpha, 'options.alpha', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  assertInteger(topUnits, 'options.topUnits', 1);
  assertInteger(bins, 'options.bins', 1);
  assertInteger(maxActivationValues, 'options.maxActivationValues', 1);
  if (typeof jitter !== 'boolean') throw new GlassboxArgumentError('options.jitter', `expected a boolean, got ${describeValue(jitter)}`);
  return {
    batchSize: batchSizeOption(options.batchSize),
    onProgress: progressOption(options.onProgress),
    signal: signalOption(options.signal),
    permutations,
    alpha,
    topUnits,
    bins,
    jitter,
    maxActivationValues,
    seed: seedOption(options.seed),
    pairs: options.pairs ?? 'all',
  };
}

function resolvePairs(pairs: [string, string][] | 'all', names: string[]): [string, string][] {
  if (pairs === 'all') return names.flatMap((a) => names.filter((b) => b !== a).map((b) => [a, b] as [string, string]));
  if (!Array.isArray(pairs)) throw new GlassboxArgumentError('options.pairs', `expected 'all' or an array of [factor, given] pairs, got ${describeValue(pairs)}`);
  pairs.forEach((pair, i) => {
    const ok = Array.isArray(pair) && pair.length === 2 && pair.every((name) => names.includes(name)) && pair[0] !== pair[1];
    if (!ok) {
      throw new GlassboxArgumentError(`options.pairs[${i}]`, `expected [factor, given], two different names of ${names.join(', ')}, got ${describeValue(pair)}`);
    }
  });
  return pairs;
}

/** Units in the whole-layer estimate: at most `topUnits`, fewer when classes or samples are too few. */
function wholeLayerSize(factor: PreparedFactor, topUnits: number, units: number): number {
  const limit = factor.kind === 'discrete' ? Math.min(...factor.classSizes!) - 1 : factor.samples - 1 - factor.width;
  return Math.max(1, Math.min(topUnits, units, limit));
}

function factorDataOf(factor: PreparedFactor): FactorData {
  return factor.kind === 'discrete'
    ? { kind: 'discrete', labels: factor.labels!, numClasses: factor.width }
    : { kind: 'continuous', values: factor.copula! };
}

function summary(values: Float32Array): { mean: number; max: number; maxUnit: number } {
  let sum = 0;
  let maxUnit = 0;
  values.forEach((v, i) => {
    sum += v;
    if (v > values[maxUnit]) maxUnit = i;
  });
  return { mean: sum / values.length, max: values[maxUnit], maxUnit };
}

/** `bins` equal bins from min(0, smallest) to the largest value. */
function histogram(values: Float32Array, bins: number): Histogram {
  let lo = 0;
  let hi = 0;
  values.forEach((v) => {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  });
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  values.forEach((v) => counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++);
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}

function significance(information: Float32Array, maxima: Float32Array, alpha: number): UnitSignificance {
  const sorted = Float32Array.from(maxima).sort();
  const permutations = maxima.length;
  const pValues = Float32Array.from(information, (v) => {
    // Maxima at least v: binary search in the sorted maxima.
    let lo = 0;
    let hi = permutations;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return (1 + permutations - lo) / (1 + permutations);
  });
  const threshold = sorted[Math.min(permutations - 1, Math.ceil((1 - alpha) * permutations) - 1)];
  return { pValues, threshold, significantUnits: pValues.reduce((s, p) => s + (p <= alpha ? 1 : 0), 0), permutationMaxima: maxima };
}
