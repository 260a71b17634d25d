/**
 * The most informative units of a layer, for its whole-layer (multivariate) information: while the
 * windows of units stream past, the raw activations of the best candidates are kept (a few columns of
 * N values); at the end, units are taken in order of decreasing information, skipping near-duplicates
 * (a unit whose copula scores are linearly explained to more than 99.9 % by the units already chosen
 * adds no information a Gaussian copula can see, and makes the joint covariance singular).
 */
import * as tf from '@tensorflow/tfjs-core';
import { copulaColumns } from './copnorm';
import { covarianceOf } from './covariance';
import type { TieBreak } from './ranks';

/** A unit is skipped when at most this share of its variance is left after regressing it on the chosen ones. */
export const DUPLICATE_RESIDUAL_SHARE = 1e-3;

/** The running best units of one layer for one factor. */
export class UnitCandidates {
  /** `[candidates, N]`: raw activations of the candidates. */
  private columns: tf.Tensor2D | null = null;
  private units: number[] = [];
  private information: number[] = [];

  constructor(private readonly capacity: number) {}

  /**
   * Offers the units of a window: `columns` `[count, N]` (units `first..first + count − 1`) with their
   * information; keeps the best `capacity` overall.
   */
  offer(columns: tf.Tensor2D, first: number, information: ArrayLike<number>): void {
    const mergedUnits = [...this.units, ...Array.from(information, (_, i) => first + i)];
    const mergedInformation = [...this.information, ...Array.from(information)];
    const keep = bestIndices(mergedInformation, this.capacity);
    const previous = this.columns;
    this.columns = tf.tidy(() => {
      const merged = previous === null ? columns : tf.concat([previous, columns], 0);
      return tf.gather(merged, tf.tensor1d(keep, 'int32')) as tf.Tensor2D;
    });
    previous?.dispose();
    this.units = keep.map((i) => mergedUnits[i]);
    this.information = keep.map((i) => mergedInformation[i]);
  }

  /**
   * Up to `count` of the candidates, in order of decreasing information, skipping near-duplicates:
   * their unit indices and raw activations `[N, chosen]` (the caller disposes them).
   */
  async select(count: number, tieBreak: TieBreak | null): Promise<{ units: number[]; activations: tf.Tensor2D }> {
    const columns = this.columns!;
    const covariance = tf.tidy(() => covarianceOf(tf.transpose(copulaColumns(columns, tieBreak).scores) as tf.Tensor2D, false));
    const values = await covariance.data().finally(() => covariance.dispose());
    const size = this.units.length;
    const chosen = greedyIndependent(values, size, count);
    const activations = tf.tidy(() => tf.transpose(tf.gather(columns, tf.tensor1d(chosen, 'int32'))) as tf.Tensor2D);
    return { units: chosen.map((i) => this.units[i]), activations };
  }

  dispose(): void {
    this.columns?.dispose();
    this.columns = null;
  }
}

/** Indices of the `count` largest values (ties: lower index first), largest first. */
function bestIndices(values: number[], count: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, count)
    .map(([, i]) => i);
}

/**
 * Walks the rows in their order (already by decreasing information) and keeps a row when its residual
 * variance given the kept ones — the Cholesky pivot `C_ii − ‖L⁻¹C_Si‖²` — exceeds
 * {@link DUPLICATE_RESIDUAL_SHARE}·C_ii; stops at `count` rows.
 */
function greedyIndependent(covariance: ArrayLike<number>, size: number, count: number): number[] {
  const chosen: number[] = [];
  const factor: number[][] = []; // rows of the Cholesky factor of the chosen block
  for (let i = 0; i < size && chosen.length < count; i++) {
    const row: number[] = [];
    for (let a = 0; a < chosen.length; a++) {
      let s = covariance[i * size + chosen[a]];
      for (let b = 0; b < a; b++) s -= row[b] * factor[a][b];
      row.push(s / factor[a][a]);
    }
    const diagonal = covariance[i * size + i];
    const pivot = diagonal - row.reduce((s, v) => s + v * v, 0);
    if (!(pivot > DUPLICATE_RESIDUAL_SHARE * diagonal)) continue;
    row.push(Math.sqrt(pivot));
    factor.push(row);
    chosen.push(i);
  }
  return chosen;
}
