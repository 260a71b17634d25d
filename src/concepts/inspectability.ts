/**
 * Inspectability of a layer (Losch, Fritz & Schiele, "Semantic Bottlenecks: Quantifying and Improving
 * Inspectability of Deep Representations", GCPR 2020), with Network Dissection's IoU (Bau et al. 2017).
 *
 * Each channel k is binarised (activation > threshold), its IoU with each concept c is taken over the
 * whole data set, `IoU_{k,c} = |A_k ∩ M_c| / |A_k ∪ M_c|`, every concept is matched to its best
 * channel, `IoU_c = max_k IoU_{k,c}`, and
 *
 *   `AUiC = ∫₀¹ |{c : IoU_c ≥ ξ}| / |C| dξ = mean_c IoU_c`,
 *
 * the area under the curve of the fraction of concepts found with an IoU of at least ξ. Concepts with
 * no pixel in the data set cannot be matched and are left out of |C|.
 *
 * Activations and masks are processed in chunks (pixel counts accumulate in JavaScript), so the data
 * set can be much larger than what fits through one tensor operation; it can also be given as lists
 * of batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertInteger, assertNumberInRange } from '../core/validate';
import { transposedMatMul } from '../core/transposed-matmul';

/** How channels are binarised: a fixed activation threshold, or each channel's top quantile. */
export type InspectabilityThreshold =
  | number
  | {
      /** The quantile q in (0, 1) of each channel's activations that becomes its threshold. */
      quantile: number;
    };

/** Options of {@link inspectability}. */
export interface InspectabilityOptions {
  /**
   * A channel is "on" where its activation exceeds the threshold. A number (default 0.5, right for
   * probabilities such as a semantic bottleneck's), or `{ quantile: q }` for a per-channel threshold
   * at the q-quantile of the channel's activations over the data set (Network Dissection uses 0.995).
   */
  threshold?: InspectabilityThreshold;
  /** Concept names, one per mask channel, copied into `matches`. */
  conceptNames?: string[];
  /** Pixels per chunk (examples are never split). Default 2^20. */
  chunkPixels?: number;
}

/** The best channel of one concept. */
export interface ConceptMatch {
  /** Index of the concept (mask channel). */
  concept: number;
  /** Its name, when `conceptNames` was given. */
  name?: string;
  /** The channel with the highest IoU (−1 when the concept never occurs). */
  channel: number;
  /** That IoU. */
  iou: number;
  /** How many pixels of the data set show the concept. */
  pixels: number;
}

/** The result of {@link inspectability}. */
export interface InspectabilityResult {
  /** Area under the IoU curve, in [0, 1]. */
  auic: number;
  /** The curve sampled at ξ = 0, 0.01, …, 1: the fraction of concepts with IoU ≥ ξ. */
  curve: {
    /** The IoU thresholds ξ. */
    xi: number[];
    /** The fraction of concepts matched with an IoU of at least ξ. */
    fraction: number[];
  };
  /** One entry per concept, in mask-channel order. */
  matches: ConceptMatch[];
  /** The threshold used for each channel. */
  thresholds: number[];
}

interface Batch {
  activations: tf.Tensor;
  masks: tf.Tensor;
}

/** Examples `start .. start + size − 1` of a batch. */
interface Chunk {
  batch: Batch;
  start: number;
  size: number;
}

/** Number of points of the sampled curve. */
const CURVE_POINTS = 101;

/**
 * Measures how well the channels of `activations` [N, ..., K] match the binary concept masks
 * `conceptMasks` [N, ..., C] (a value > 0.5 means the concept is present). Both can be lists of
 * batches. When both are [N, H, W, ·] with different H, W, the activations are resized bilinearly to
 * the masks' size first. Returns plain numbers; the inputs are not disposed.
 */
export async function inspectability(
  activations: tf.Tensor | tf.Tensor[],
  conceptMasks: tf.Tensor | tf.Tensor[],
  options: InspectabilityOptions = {},
): Promise<InspectabilityResult> {
  const { threshold = 0.5, conceptNames, chunkPixels = 2 ** 20 } = options;
  const batches = pairBatches(activations, conceptMasks);
  const channels = batches[0].activations.shape[batches[0].activations.rank - 1];
  const concepts = batches[0].masks.shape[batches[0].masks.rank - 1];
  assertInteger(chunkPixels, 'options.chunkPixels', 1);
  if (chunkPixels > 2 ** 24) throw new GlassboxArgumentError('options.chunkPixels', `expected at most 2^24 (exact float32 counts), got ${chunkPixels}`);
  if (conceptNames !== undefined && (!Array.isArray(conceptNames) || conceptNames.length !== concepts)) {
    throw new GlassboxArgumentError('options.conceptNames', `expected ${concepts} names (one per mask channel), got ${describeValue(conceptNames)}`);
  }
  const chunks = chunkBatches(batches, chunkPixels);

  const thresholds = await channelThresholds(threshold, chunks, channels);
  const intersection = new Float64Array(channels * concepts);
  const active = new Float64Array(channels);
  const present = new Float64Array(concepts);
  const thresholdTensor = tf.tensor1d(thresholds);
  try {
    for (const chunk of chunks) {
      const [inter, act, mask] = tf.tidy(() => {
        const { a, m } = chunkPixelsOf(chunk);
        const on = tf.cast(tf.greater(a, thresholdTensor), 'float32');
        const inMask = tf.cast(tf.greater(m, 0.5), 'float32');
        return [transposedMatMul(on, inMask), tf.sum(on, 0), tf.sum(inMask, 0)];
      });
      const [interData, actData, maskData] = await Promise.all([inter.data(), act.data(), mask.data()]);
      tf.dispose([inter, act, mask]);
      for (let i = 0; i < interData.length; i++) intersection[i] += interData[i];
      for (let i = 0; i < actData.length; i++) active[i] += actData[i];
      for (let i = 0; i < maskData.length; i++) present[i] += maskData[i];
    }
  } finally {
    thresholdTensor.dispose();
  }
  return summarise(intersection, active, present, channels, concepts, thresholds, conceptNames);
}

/** Turns the accumulated counts into matches, AUiC and curve. */
function summarise(
  intersection: Float64Array,
  active: Float64Array,
  present: Float64Array,
  channels: number,
  concepts: number,
  thresholds: number[],
  conceptNames: string[] | undefined,
): InspectabilityResult {
  const matches: ConceptMatch[] = [];
  for (let c = 0; c < concepts; c++) {
    let best = { channel: -1, iou: 0 };
    if (present[c] > 0) {
      for (let k = 0; k < channels; k++) {
        const inter = intersection[k * concepts + c];
        const iou = inter / (active[k] + present[c] - inter);
        if (best.channel < 0 || iou > best.iou) best = { channel: k, iou };
      }
    }
    matches.push({ concept: c, ...(conceptNames ? { name: conceptNames[c] } : {}), channel: best.channel, iou: best.iou, pixels: present[c] });
  }
  const found = matches.filter((m) => m.pixels > 0).map((m) => m.iou);
  if (found.length === 0) throw new GlassboxArgumentError('conceptMasks', 'no concept occurs anywhere in the masks (all values <= 0.5)');
  const auic = found.reduce((s, v) => s + v, 0) / found.length;
  const xi = Array.from({ length: CURVE_POINTS }, (_, i) => i / (CURVE_POINTS - 1));
  const fraction = xi.map((t) => found.filter((v) => v >= t).length / found.length);
  return { auic, curve: { xi, fraction }, matches, thresholds };
}

/** Per-channel thresholds: the fixed number, or each channel's q-quantile over all chunks. */
async function channelThresholds(threshold: InspectabilityThreshold, chunks: Chunk[], channels: number): Promise<number[]> {
  if (typeof threshold === 'number') {
    assertNumberInRange(threshold, 'options.threshold', {});
    return new Array<number>(channels).fill(threshold);
  }
  if (!threshold || typeof threshold !== 'object' || !('quantile' in threshold)) {
    throw new GlassboxArgumentError('options.threshold', `expected a number or { quantile: q }, got ${describeValue(threshold)}`);
  }
  const q = threshold.quantile;
  assertNumberInRange(q, 'options.threshold.quantile', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const total = chunks.reduce((s, c) => s + pixelCount(c), 0);
  // numpy's linear quantile interpolates the sorted values at position q·(n − 1); keep the top ones.
  const position = q * (total - 1);
  const keep = total - Math.floor(position);
  const top: Float32Array[] = Array.from({ length: channels }, () => new Float32Array(0));
  for (const chunk of chunks) {
    const k = Math.min(keep, pixelCount(chunk));
    const values = tf.tidy(() => tf.topk(tf.transpose(chunkPixelsOf(chunk).a), k, false).values);
    const data = await values.data();
    values.dispose();
    for (let ch = 0; ch < channels; ch++) {
      const merged = new Float32Array(top[ch].length + k);
      merged.set(top[ch]);
      merged.set(data.subarray(ch * k, (ch + 1) * k), top[ch].length);
      merged.sort((a, b) => b - a);
      top[ch] = merged.slice(0, keep);
    }
  }
  const lower = Math.floor(position);
  const fractionPart = position - lower;
  return top.map((values) => {
    const atLower = values[total - 1 - lower];
    const atUpper = lower + 1 < total ? values[total - 2 - lower] : atLower;
    return atLower + fractionPart * (atUpper - atLower);
  });
}

/** The chunk's activations [P, K] (resized to the masks' size) and masks [P, C]; call inside tidy. */
function chunkPixelsOf({ batch, start, size }: Chunk): { a: tf.Tensor2D; m: tf.Tensor2D } {
  const { activations, masks } = batch;
  const k = activations.shape[activations.rank - 1];
  const c = masks.shape[masks.rank - 1];
  let a = tf.cast(sliceExamples(activations, start, size), 'float32');
  if (activations.rank === 4 && (activations.shape[1] !== masks.shape[1] || activations.shape[2] !== masks.shape[2])) {
    a = tf.image.resizeBilinear(a as tf.Tensor4D, [masks.shape[1] as number, masks.shape[2] as number]);
  }
  return { a: tf.reshape(a, [-1, k]), m: tf.reshape(tf.cast(sliceExamples(masks, start, size), 'float32'), [-1, c]) };
}

/** Pixels per example (positions at the masks' resolution). */
function pixelsPerExample({ masks }: Batch): number {
  return masks.size / masks.shape[0] / masks.shape[masks.rank - 1];
}

function pixelCount(chunk: Chunk): number {
  return chunk.size * pixelsPerExample(chunk.batch);
}

/** Validates the inputs and pairs activation batches with mask batches. */
function pairBatches(activations: tf.Tensor | tf.Tensor[], conceptMasks: tf.Tensor | tf.Tensor[]): Batch[] {
  const aList = Array.isArray(activations) ? activations : [activations];
  const mList = Array.isArray(conceptMasks) ? conceptMasks : [conceptMasks];
  if (aList.length === 0 || aList.length !== mList.length) {
    throw new GlassboxArgumentError('conceptMasks', `expected as many mask batches as activation batches (${aList.length}), got ${mList.length}`);
  }
  return aList.map((a, i) => {
    const m = mList[i];
    const at = Array.isArray(activations) ? `activations[${i}]` : 'activations';
    const mt = Array.isArray(conceptMasks) ? `conceptMasks[${i}]` : 'conceptMasks';
    for (const [t, name] of [[a, at], [m, mt]] as const) {
      if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank < 2) {
        throw new GlassboxArgumentError(name, `expected a tf.Tensor of shape [batch, ..., channels], got ${describeValue(t)}`);
      }
    }
    const first = i === 0 ? null : { a: aList[0], m: mList[0] };
    if (first && (a.shape[a.rank - 1] !== first.a.shape[first.a.rank - 1] || m.shape[m.rank - 1] !== first.m.shape[first.m.rank - 1])) {
      throw new GlassboxArgumentError(i === 0 ? at : `${at}/${mt}`, 'every batch needs the same number of channels and concepts as the first');
    }
    const resizable = a.rank === 4 && m.rank === 4;
    const sameSpatial = a.rank === m.rank && a.shape.slice(1, -1).every((d, j) => d === m.shape[j + 1]);
    if (a.shape[0] !== m.shape[0] || (!sameSpatial && !resizable)) {
      throw new GlassboxArgumentError(
        mt,
        `expected masks for the same examples and positions as ${at} [${a.shape.join(', ')}] ` +
          `(shape [${a.shape.slice(0, -1).join(', ')}, C], or [N, H, W, C] to resize to), got [${m.shape.join(', ')}]`,
      );
    }
    return { activations: a, masks: m };
  });
}

/** Splits the batches into runs of whole examples with at most `maxPixels` pixels each. */
function chunkBatches(batches: Batch[], maxPixels: number): Chunk[] {
  return batches.flatMap((batch) => {
    const n = batch.masks.shape[0];
    const step = Math.max(1, Math.floor(maxPixels / pixelsPerExample(batch)));
    const out: Chunk[] = [];
    for (let start = 0; start < n; start += step) out.push({ batch, start, size: Math.min(step, n - start) });
    return out;
  });
}

function sliceExamples(x: tf.Tensor, start: number, size: number): tf.Tensor {
  if (start === 0 && size === x.shape[0]) return x;
  return tf.slice(x, [start, ...x.shape.slice(1).map(() => 0)], [size, ...x.shape.slice(1)]);
}
