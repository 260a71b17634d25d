/** Options every attribution accepts. */
import type { Target } from './target';

/** Options shared by every attribution method. */
export interface CommonOptions {
  /** Which output to explain; required unless the model has one output per example. See {@link Target}. */
  target?: Target;
  /** Most inputs sent through the model at once (memory bound). Default 32. Results do not depend on it. */
  batchSize?: number;
  /** Called after every chunk with the work done and the total (in model evaluations). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the call with an `AbortError` and leaks nothing. */
  signal?: AbortSignal;
}

/** The default {@link CommonOptions.batchSize}. */
export const DEFAULT_BATCH_SIZE = 32;
