/** Names of 0.1 kept for one release. */
import { SCORE_TRANSFORMS, type ScoreTransform } from '../core/score-transform';

/** @deprecated The score transforms are {@link SCORE_TRANSFORMS} for every method; removed in the next release. */
export const METRIC_SCORES = SCORE_TRANSFORMS;
/** @deprecated Use {@link ScoreTransform}; removed in the next release. */
export type MetricScore = ScoreTransform;
