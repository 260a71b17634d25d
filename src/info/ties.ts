/**
 * Ties make ranks ill-defined: a variable with a point mass (ReLU zeros, saturated units, discrete
 * values) has no unique copula transform. Like gcmi, the estimators warn when more than 10 % of a
 * column's values repeat; the `jitter` option breaks ties at random instead of by sample order.
 */
import { deriveSeed, seedOption } from '../core/seeded-random';
import { GlassboxArgumentError, describeValue } from '../core/errors';
import { assertKnownOptions } from '../core/option-keys';
import type { TieBreak } from './ranks';

/** Share of repeated values above which a column is reported. */
export const TIE_WARNING_SHARE = 0.1;

/** Options of every copula-based estimator. */
export interface TieOptions {
  /**
   * Break ties at random (seeded) instead of by sample order: equivalent to adding an infinitesimally
   * small random jitter to every value, so distinct values keep their order. Each column gets its own
   * random order. Default `false` (gcmi's stable ranks).
   */
  jitter?: boolean;
  /** Seed of the jitter (an integer); a random one when omitted. */
  seed?: number;
}

/** Validates the options of a copula estimator (an object with at most `jitter` and `seed`). */
export function tieOptions(options: TieOptions): TieOptions {
  if (options === null || typeof options !== 'object') throw new GlassboxArgumentError('options', `expected an object, got ${describeValue(options)}`);
  assertKnownOptions(options, ['jitter', 'seed'], 'options');
  return options;
}

/** The tie-breaking of the variable `index` of a call (its own seed per variable), or null without jitter. */
export function tieBreakOption(options: TieOptions, index: number): TieBreak | null {
  if (options.jitter === undefined || options.jitter === false) return null;
  if (options.jitter !== true) throw new GlassboxArgumentError('options.jitter', `expected a boolean, got ${describeValue(options.jitter)}`);
  return { seed: deriveSeed(seedOption(options.seed), index), firstColumn: 0 };
}

/** The shares of repeated values of the columns of one argument. */
export interface ColumnRepeats {
  argument: string;
  repeats: ArrayLike<number>;
}

/**
 * Warns (one message per call) when more than 10 % of the values of a column repeat, naming each
 * argument concerned, its worst column and that column's share of repeats.
 */
export function warnAboutTies(entries: ColumnRepeats[], jittered: boolean): void {
  const parts = entries.flatMap(({ argument, repeats }) => {
    let worst = 0;
    let column = 0;
    let columns = 0;
    for (let c = 0; c < repeats.length; c++) {
      if (repeats[c] > TIE_WARNING_SHARE) columns++;
      if (repeats[c] > worst) [worst, column] = [repeats[c], c];
    }
    if (columns === 0) return [];
    const where = repeats.length === 1 ? '' : ` of column ${column}${columns > 1 ? ` (${columns} columns above 10 %)` : ''}`;
    return [`${argument}: ${(100 * worst).toFixed(1)} % of the values${where} repeat`];
  });
  if (parts.length === 0) return;
  console.warn(
    `tfjs-glassbox: ties (e.g. ReLU zeros) make ranks ill-defined. ${parts.join('; ')}. ` +
      (jittered
        ? 'They were broken at random (jitter).'
        : 'Their ranks follow the sample order; pass { jitter: true, seed } to break ties at random.'),
  );
}
