/** Options every attribution accepts, and their validation. */
import { describeValue, GlassboxArgumentError } from './errors';
import { assertKnownOptions } from './option-keys';
import type { Target } from './target';

/**
 * How many model inputs go through the model at once: `'auto'` (the default) sizes chunks from the
 * model's measured memory per input and the backend's chunk budget (1 GiB on cpu, 2 GiB on tensorflow,
 * 256 MiB on wasm, webgl, webgpu and others; at most 128 inputs per chunk), so default options never
 * exhaust wasm's heap or a GPU; a number caps the chunk at that many inputs.
 */
export type BatchSize = number | 'auto';

/** Options shared by every attribution method. */
export interface CommonOptions {
  /** Which output to explain; required unless the model has one output per example. See {@link Target}. */
  target?: Target;
  /** Which output of a model with several outputs to explain: its index, or its name (`model.outputNames`, a GraphModel's output node). */
  output?: number | string;
  /** Most inputs sent through the model at once (memory bound), or `'auto'` (default). Results do not depend on it. */
  batchSize?: BatchSize;
  /** Called after every chunk with the work done and the total, both counted in model evaluations (rows). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the call with an `AbortError` (the abort reason as its `cause`) and leaks nothing. */
  signal?: AbortSignal;
}

/** The keys of {@link CommonOptions}. */
export const COMMON_OPTION_KEYS = ['target', 'output', 'batchSize', 'onProgress', 'signal'] as const;

/** Validated common options (the target is resolved later, against the batch). */
export interface CheckedCommonOptions {
  batchSize: BatchSize;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  output?: number | string;
}

/**
 * Checks an options object: no unknown keys (see {@link assertKnownOptions}), and the common options'
 * types (`batchSize` a positive integer or `'auto'`, `onProgress` a function, `signal` an AbortSignal,
 * `output` an index or a name).
 */
export function checkOptions(options: unknown, known: readonly string[]): CheckedCommonOptions {
  assertKnownOptions(options, known);
  const o = (options ?? {}) as CommonOptions;
  return {
    batchSize: batchSizeOption(o.batchSize),
    onProgress: progressOption(o.onProgress),
    signal: signalOption(o.signal),
    output: outputOption(o.output),
  };
}

/** Reads `options.batchSize`: a positive integer, or `'auto'` (default). */
export function batchSizeOption(batchSize: unknown, argument = 'options.batchSize'): BatchSize {
  if (batchSize === undefined || batchSize === 'auto') return 'auto';
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new GlassboxArgumentError(argument, `expected a positive integer or 'auto', got ${describeValue(batchSize)}`);
  }
  return batchSize;
}

/** Reads `options.onProgress`: a function or undefined. */
export function progressOption(onProgress: unknown, argument = 'options.onProgress'): ((done: number, total: number) => void) | undefined {
  if (onProgress === undefined) return undefined;
  if (typeof onProgress !== 'function') {
    throw new GlassboxArgumentError(argument, `expected a function (done, total) => void, got ${describeValue(onProgress)}`);
  }
  return onProgress as (done: number, total: number) => void;
}

/** Reads `options.signal`: an AbortSignal (anything with `aborted` and `addEventListener`) or undefined. */
export function signalOption(signal: unknown, argument = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const s = signal as Partial<AbortSignal> | null;
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new GlassboxArgumentError(argument, `expected an AbortSignal (e.g. new AbortController().signal), got ${describeValue(signal)}`);
  }
  return signal as AbortSignal;
}

function outputOption(output: unknown): number | string | undefined {
  if (output === undefined || typeof output === 'string') return output;
  if (typeof output !== 'number' || !Number.isInteger(output) || output < 0) {
    throw new GlassboxArgumentError('options.output', `expected an output index (integer ≥ 0) or an output name, got ${describeValue(output)}`);
  }
  return output;
}
