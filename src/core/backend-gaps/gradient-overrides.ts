import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../errors';
import type { GradientFix } from './registry-slots';

/** A kernel's gradient as tfjs's gradient registry holds it, without the kernel's name. */
export type GradientDefinition = Omit<tf.GradConfig, 'kernelName'>;

/**
 * Replaces the gradient of one kernel for the duration of a synchronous scope
 * ({@link withBackendGapFixesSync}'s `gradients` option): modified backward passes such as guided
 * backpropagation, deconvolution or DeepLift's rescale rule.
 *
 * tfjs looks a kernel's gradient up when the kernel runs forward (the tape keeps the function and the
 * tensors it asks to save), so the forward and the backward pass must both run inside the scope.
 * `gradient` gets the gradient registered before any scope (`undefined` if the kernel has none) and
 * returns the rule to use instead: `gradFunc(dy, saved, attrs)` returns one thunk per input, `saved`
 * holds the inputs named in `inputsToSave` (all of them with `saveAllInputs`) followed by the outputs
 * flagged in `outputsToSave`. Returning `undefined` keeps the gradient as it is.
 *
 * A rule sees the whole batch the kernel ran on, so a method that runs inputs and references stacked
 * (DeepLift's rescale rule on `[x; x₀]`) can read both halves of the saved input, e.g.
 * `m = (f(a) − f(b)) / (a − b)` for the halves `a`, `b` of `x`.
 */
export interface GradientOverride {
  /** The kernel whose gradient is replaced, e.g. `'Relu'` (tfjs exports the names: `tf.Relu`). */
  readonly kernelName: string;
  /** Builds the replacement from the original registered gradient. */
  readonly gradient: (original: tf.GradConfig | undefined) => GradientDefinition | undefined;
}

/** A caller's override outranks the library's own gradient fixes for the same kernel. */
const OVERRIDE_PRIORITY = 10;

/** A library gradient fix: `build` gets the original gradient and returns the rule (undefined: keep it). */
export function gradientFix(
  kernelName: string,
  build: (original: tf.GradConfig | undefined) => GradientDefinition | undefined,
): GradientFix {
  return { kernelName, priority: 0, install: (original) => installed(kernelName, build(original)) };
}

/**
 * The registry fix of one override for one scope: a fresh object per scope, so that an inner scope's
 * override of the same kernel outranks an outer one's while both are open.
 */
export function overrideFix(override: GradientOverride): GradientFix {
  const { kernelName } = override;
  return {
    kernelName,
    priority: OVERRIDE_PRIORITY,
    install: (original) => installed(kernelName, override.gradient(original)),
  };
}

function installed(kernelName: string, rule: GradientDefinition | undefined): { config: tf.GradConfig } | undefined {
  return rule === undefined ? undefined : { config: { ...rule, kernelName } };
}

/** Checks the `gradients` option: an array of `{ kernelName: string, gradient: function }`. */
export function validatedOverrides(value: unknown, argument: string): readonly GradientOverride[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new GlassboxArgumentError(argument, `expected an array of gradient overrides, got ${describeValue(value)}`);
  }
  value.forEach((entry: unknown, i) => {
    const override = entry as Partial<GradientOverride> | null;
    if (typeof override !== 'object' || override === null || typeof override.kernelName !== 'string' || override.kernelName === '') {
      throw new GlassboxArgumentError(`${argument}[${i}]`, `expected { kernelName: string, gradient: function }, got ${describeValue(entry)}`);
    }
    if (typeof override.gradient !== 'function') {
      throw new GlassboxArgumentError(`${argument}[${i}].gradient`, `expected a function, got ${describeValue(override.gradient)}`);
    }
  });
  return value as GradientOverride[];
}
