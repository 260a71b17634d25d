/**
 * The part of tfjs-core's engine state that the gradient scope reads: the tape of the gradient
 * computation being recorded (`tf.engine().state.activeTape`, a public field of the engine's state).
 * tfjs offers no other way to release a tape that a failed backward pass left behind, to learn which
 * node failed, or to see which tensors a differentiated function computed from its inputs.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** One recorded operation (tfjs-core 4.22's `TapeNode`). */
export interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor | undefined>;
  outputs: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

export interface TapeState {
  activeTape: TapeNode[] | null;
  gradientDepth: number;
}

export const tapeState = (): TapeState => tf.engine().state as unknown as TapeState;
