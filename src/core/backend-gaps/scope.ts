import * as tf from '@tensorflow/tfjs-core';
import { backendGapFixes } from './fixes';
import { acquireKernelFix } from './kernel-slots';

/** Options of {@link withBackendGapFixes}. */
export interface BackendGapOptions {
  /**
   * Let the filter-gradient kernels (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter`)
   * answer zeros inside the scope. Default `true`: attributions differentiate with respect to the input
   * only, but tfjs's fused convolution (every tfjs-layers `conv2d` with a linear activation) computes
   * its filter gradient eagerly, which costs most of the time of an input gradient (MobileNetV2-like
   * stack at 224×224, batch 1: 54 s → 4.8 s on cpu, 4.7 s → 1.2 s on wasm; `bench/backend-gaps.ts`).
   * Set `false` if code inside the scope needs filter gradients; backends that lack these kernels
   * (wasm) then get exact ones.
   */
  zeroFilterGradients?: boolean;
}

function validated(options: BackendGapOptions, caller: string): boolean {
  const { zeroFilterGradients = true } = options;
  if (typeof zeroFilterGradients !== 'boolean') {
    throw new TypeError(
      `${caller}: options.zeroFilterGradients must be a boolean, ` +
        `got ${typeof zeroFilterGradients} (${String(zeroFilterGradients)})`,
    );
  }
  return zeroFilterGradients;
}

/**
 * Installs the fixes for the active backend and returns the function that undoes them (callable once;
 * later calls do nothing). If a release throws, the others are still released, then it rethrows.
 */
function open(zeroFilterGradients: boolean): () => void {
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
    for (const fix of backendGapFixes(zeroFilterGradients)) releases.push(acquireKernelFix(fix, backendName));
  } catch (error) {
    closeAll();
    throw error;
  }
  return closeAll;
}

/**
 * Runs `run` with tfjs 4.22's gradient gaps closed on the active backend, then restores tfjs's global
 * kernel registry exactly (the original kernel objects, and no entry where there was none), also when
 * `run` throws. Inside the scope:
 * - wasm gets the kernels it lacks (`DepthwiseConv2dNativeBackpropInput`, `UnsortedSegmentSum`, and
 *   with `zeroFilterGradients: false` the filter gradients), built from kernels it has, and a correct
 *   `MaxPoolGrad` (its own ignores windows whose values are all ≤ 0);
 * - on every backend, batch norm without scale or offset becomes differentiable (tfjs issue 2868), and
 *   filter gradients answer zeros unless `zeroFilterGradients` is false.
 *
 * Scopes nest and overlap safely (two attributions awaiting at once): installs are reference-counted
 * per kernel and undone when the last scope using them closes. While a scope awaits, other code
 * sharing the tfjs instance sees the fixed kernels too, zero filter gradients included; for gradient
 * computations, which are synchronous, prefer {@link withBackendGapFixesSync} around each one.
 */
export async function withBackendGapFixes<T>(run: () => Promise<T> | T, options: BackendGapOptions = {}): Promise<T> {
  const close = open(validated(options, 'withBackendGapFixes'));
  try {
    return await run();
  } finally {
    close();
  }
}

/**
 * Synchronous {@link withBackendGapFixes}: the fixes are installed only while `run` executes, so no
 * other code can observe them. Use it around `tf.grad` / `tf.valueAndGrad` calls (also inside
 * `tf.tidy`). `run` must not return a promise (the scope would close before it settles).
 */
export function withBackendGapFixesSync<T>(run: () => T, options: BackendGapOptions = {}): T {
  const close = open(validated(options, 'withBackendGapFixesSync'));
  try {
    return run();
  } finally {
    close();
  }
}
