import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../errors';
import { watchTape } from './backward-failure';
import { GRADIENT_FIXES, kernelFixes } from './fixes';
import { type GradientOverride, overrideFix, validatedOverrides } from './gradient-overrides';
import { KernelCache } from './kernel-cache';
import { acquireGradientFix, acquireKernelFix } from './registry-slots';
import { enterScope } from './scope-context';

/** Options of {@link withBackendGapFixes} and {@link withBackendGapFixesSync}. */
export interface BackendGapOptions {
  /**
   * Let convolutions skip their filter gradient where nobody needs it, i.e. where the filter is a
   * constant of the gradient computation; elsewhere, e.g. a filter computed from the input, it stays
   * exact. Inside {@link guardedGradients} that is every filter not computed from the differentiated
   * inputs (tfjs-layers weights, a GraphModel's weights); around a plain `tf.grad`, the registered
   * `tf.Variable`s (which hold every tfjs-layers weight) and `constants`. Default `true`: tfjs's fused
   * convolution (every tfjs-layers `conv2d` with a linear activation, a GraphModel's fused convolutions)
   * computes its filter gradient eagerly, which costs most of the time of an input gradient
   * (MobileNetV2-like stack at 96×96, batch 1: 10.0 s → 1.5 s on cpu, 0.52 s → 0.22 s on wasm;
   * `bench/backend-gaps.ts`). Set `false` if code inside the scope needs the gradients of weights
   * (training); backends that lack the filter-gradient kernels (wasm) then get exact ones.
   */
  zeroFilterGradients?: boolean;
  /**
   * Tensors that are constants of the computation beyond the registered variables, e.g. a GraphModel's
   * weights: tensors derived from them (flipped filters) may be cached, and around a plain `tf.grad`
   * the filter gradients of convolutions whose filter is one of them are skipped.
   */
  constants?: readonly tf.Tensor[];
  /**
   * Where to keep tensors derived from constants (flipped filters) across gradient computations; owned
   * and disposed by the caller. Without it they are recomputed by every computation.
   */
  cache?: KernelCache;
}

/** Options of {@link withBackendGapFixesSync}: those of {@link BackendGapOptions}, and gradient overrides. */
export interface SyncBackendGapOptions extends BackendGapOptions {
  /**
   * Gradients to use instead of tfjs's for some kernels while the scope runs (e.g.
   * {@link guidedOverrides}); they outrank the library's own gradient fixes and an enclosing scope's
   * overrides of the same kernels. Only the synchronous scope takes them, so no other code ever sees them.
   */
  gradients?: readonly GradientOverride[];
}

interface Settings {
  skipConstantFilterGradients: boolean;
  constants: Set<object>;
  cache: KernelCache | undefined;
  gradients: readonly GradientOverride[];
}

const OPTION_KEYS = ['zeroFilterGradients', 'constants', 'cache'];
const SYNC_OPTION_KEYS = [...OPTION_KEYS, 'gradients'];

function validated(options: SyncBackendGapOptions, caller: string, sync: boolean): Settings {
  const argument = (key: string) => `${caller}: options.${key}`;
  if (typeof options !== 'object' || options === null) {
    throw new GlassboxArgumentError(`${caller}: options`, `expected an object, got ${describeValue(options)}`);
  }
  const keys = sync ? SYNC_OPTION_KEYS : OPTION_KEYS;
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      const hint = key === 'gradients' ? ' (gradient overrides are taken by withBackendGapFixesSync only)' : '';
      throw new GlassboxArgumentError(argument(key), `unknown option; valid options are ${keys.join(', ')}${hint}`);
    }
  }
  const { zeroFilterGradients = true, constants = [], cache, gradients } = options;
  if (typeof zeroFilterGradients !== 'boolean') {
    throw new GlassboxArgumentError(
      argument('zeroFilterGradients'),
      `must be a boolean, got ${typeof zeroFilterGradients} (${String(zeroFilterGradients)})`,
    );
  }
  if (!Array.isArray(constants) || !constants.every((t) => t instanceof tf.Tensor && !t.isDisposed)) {
    throw new GlassboxArgumentError(argument('constants'), `expected an array of live tensors, got ${describeValue(constants)}`);
  }
  if (cache !== undefined && !(cache instanceof KernelCache)) {
    throw new GlassboxArgumentError(argument('cache'), `expected a KernelCache, got ${describeValue(cache)}`);
  }
  return {
    skipConstantFilterGradients: zeroFilterGradients,
    constants: new Set(constants.map((t) => t.dataId)),
    cache,
    gradients: validatedOverrides(gradients, argument('gradients')),
  };
}

/**
 * Installs the fixes for the active backend and returns the function that undoes them (callable once;
 * later calls do nothing). If a release throws, the others are still released, then it rethrows.
 */
function open(settings: Settings): () => void {
  const backendName = tf.getBackend();
  const releases: (() => void)[] = [];
  const closeAll = (): void => {
    let failure: unknown;
    for (const release of releases.splice(0).reverse()) {
      try {
        release();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  };
  try {
    releases.push(enterScope({ constants: settings.constants, cache: settings.cache }));
    for (const fix of kernelFixes(settings.skipConstantFilterGradients)) releases.push(acquireKernelFix(fix, backendName));
    for (const fix of GRADIENT_FIXES) releases.push(acquireGradientFix(fix));
    for (const override of settings.gradients) releases.push(acquireGradientFix(overrideFix(override)));
  } catch (error) {
    closeAll();
    throw error;
  }
  return closeAll;
}

/**
 * Runs `run` with tfjs 4.22's gradient gaps closed on the active backend, then restores tfjs's global
 * kernel and gradient registries exactly (the original objects, and no entry where there was none), also
 * when `run` throws. Inside the scope:
 * - wasm gets the kernels it lacks (`DepthwiseConv2dNativeBackpropInput`, `UnsortedSegmentSum`, and the
 *   filter gradients) built from kernels it has, and a correct `MaxPoolGrad` (its own ignores windows
 *   whose values are all ≤ 0); cpu gets a correct `ResizeNearestNeighborGrad` (its own is wrong for
 *   batches of more than one) and a `Slice` that copies contiguous pieces (its own copies element by
 *   element);
 * - on every backend: exact average-pooling gradients with `'same'` padding, gradients of dilated
 *   convolutions, zero gradients for comparisons and logical operations, batch norm without scale or
 *   offset made differentiable (tfjs issue 2868) and its gradient without `Tile`, and filter
 *   gradients skipped where the filter is a constant (see {@link BackendGapOptions});
 * - on wasm, input gradients of 1×1 convolutions as one matrix product and those of other convolutions
 *   through the forward convolution (both XNNPACK), and an `Identity` that shares data instead of
 *   copying it.
 *
 * Scopes nest and overlap safely (two attributions awaiting at once): installs are reference-counted
 * per registry entry and undone when the last scope using them closes. While this asynchronous scope
 * awaits, other code sharing the tfjs instance sees the fixes too; for gradient computations, which are
 * synchronous, prefer {@link withBackendGapFixesSync} around each one.
 */
export async function withBackendGapFixes<T>(run: () => Promise<T> | T, options: BackendGapOptions = {}): Promise<T> {
  const close = open(validated(options, 'withBackendGapFixes', false));
  try {
    return await run();
  } finally {
    close();
  }
}

/**
 * Synchronous {@link withBackendGapFixes}: the fixes (and the caller's gradient overrides) are installed
 * only while `run` executes, so no other code can observe them. Use it around `tf.grad` /
 * `tf.valueAndGrad` calls (also inside `tf.tidy`); the forward and the backward pass must both run
 * inside, since tfjs picks a kernel's gradient when the kernel runs forward. `run` must not return a
 * promise (the scope would close before it settles).
 *
 * If `run` throws while a gradient tape it started is still set (tfjs leaves it so when a gradient
 * function fails), the tape's saved tensors are freed and the tape cleared (see {@link guardedGradients}
 * for errors that name the failing kernel).
 */
export function withBackendGapFixesSync<T>(run: () => T, options: SyncBackendGapOptions = {}): T {
  const settings = validated(options, 'withBackendGapFixesSync', true);
  const release = watchTape();
  const close = open(settings);
  try {
    return run();
  } catch (error) {
    throw release(error);
  } finally {
    close();
  }
}
