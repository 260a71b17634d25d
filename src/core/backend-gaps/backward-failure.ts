/**
 * Gradient computations that leak nothing when tfjs's backward pass fails, with errors that say which
 * kernel's gradient failed and what to do.
 *
 * When a gradient function throws (a kernel without a registered gradient, an assertion in a gradient
 * function or in a `tf.customGrad` closure), tfjs 4.22's `engine.gradients` frees the tensors made
 * during the backward pass but leaves the tensors it saved for it alive and its tape set
 * (`engine.state.activeTape`): 22–1111 tensors per failed call on real models. tfjs offers no public way
 * to release them, nor to learn which tape node failed, so this module reads and edits the engine's own
 * tape through the public `tf.engine()` object (never a backend's internals, see `engine-tape.ts`): it
 * disposes the saved tensors of a tape abandoned by a failure and clears the tape, and it wraps each
 * recorded node's gradient function so that a failure is reported with the node's kernel name.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { type TapeNode, tapeState } from './engine-tape';

/** A gradient computation failed in the backward pass of one kernel. */
export class BackwardPassError extends Error {
  /** Always `'BackwardPassError'` (what `error.name` checks see). */
  override name = 'BackwardPassError';
  constructor(
    /** The kernel (or `tf.customGrad` op) whose gradient failed, as tfjs names it on the tape. */
    readonly kernelName: string,
    /** The tape node's id (tfjs numbers the nodes in recording order, `tf.engine().state.nextTapeNodeId`). */
    readonly tapeNodeId: number,
    /** tfjs's own error (also the `cause`). */
    readonly original: unknown,
  ) {
    const message = original instanceof Error ? original.message : String(original);
    super(
      `the backward pass failed in the gradient of '${kernelName}': ${message}\n` +
        `To differentiate through '${kernelName}', register a gradient for it (tf.registerGradient, or a ` +
        `GradientOverride passed to withBackendGapFixesSync's 'gradients' option); if it is a standard tfjs ` +
        `kernel or layer, please report it to tfjs-glassbox with the model.`,
      { cause: original },
    );
  }
}

/**
 * What a gradient computation must undo if it fails: call `release` with the failure; it frees the
 * tape abandoned since `watchTape` was called (if any) and returns the error to throw.
 */
export function watchTape(): (error: unknown) => unknown {
  const state = tapeState();
  // Inside an enclosing gradient (higher-order), the tape belongs to that computation.
  if (state.gradientDepth > 0) return (error) => error;
  const before = state.activeTape;
  return (error) => {
    releaseAbandonedTape(before);
    return error;
  };
}

/** Frees the saved tensors of a tape that a failed gradient computation left set, and clears it. */
function releaseAbandonedTape(before: TapeNode[] | null): void {
  const state = tapeState();
  const tape = state.activeTape;
  if (state.gradientDepth > 0 || tape === null || tape === before) return;
  for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null;
}

const labelled = new WeakSet<object>();

/**
 * Wraps the gradient function of every node recorded on the active tape so far, so that an error in the
 * backward pass (in the gradient function itself or in one of the input-gradient thunks it returns)
 * becomes a {@link BackwardPassError} naming the node's kernel; a node with no gradient function gets
 * one that throws that error (tfjs would fail there anyway, when the node is on the path). Call it at
 * the end of the differentiated function (before tfjs filters and walks the tape).
 */
export function labelTape(): void {
  for (const node of tapeState().activeTape ?? []) {
    if (labelled.has(node)) continue;
    labelled.add(node);
    const { kernelName, id } = node;
    const gradient = node.gradient;
    const fail = (cause: unknown): never => {
      throw cause instanceof BackwardPassError ? cause : new BackwardPassError(kernelName, id, cause);
    };
    if (gradient === undefined) {
      node.gradient = () => fail(new Error(`Cannot compute gradient: gradient function not found for ${kernelName}.`));
      continue;
    }
    node.gradient = (dys) => {
      let thunks: Record<string, () => tf.Tensor>;
      try {
        thunks = gradient(dys);
      } catch (error) {
        return fail(error);
      }
      const guarded: Record<string, () => tf.Tensor> = {};
      for (const [input, thunk] of Object.entries(thunks)) {
        guarded[input] = () => {
          try {
            return thunk();
          } catch (error) {
            return fail(error);
          }
        };
      }
      return guarded;
    };
  }
}
