/**
 * DeepLIFT's backward rules (Shrikumar, Greenside, Kundaje 2017, "Learning important features through
 * propagating activation differences") as {@link GradientOverride}s: the model runs once on a batch that
 * stacks the inputs over their references, `[x; x₀]` along the batch axis, and every non-linear kernel's
 * gradient reads both halves of what it saved.
 *
 * - **Rescale** for element-wise non-linearities `y = f(z)`: the multiplier `m = Δy/Δz =
 *   (f(z) − f(z₀)) / (z − z₀)` replaces `f'(z)`; where `|z − z₀| < 1e−7` the ordinary gradient is used
 *   (Captum uses 1e−10, below float32's resolution of differences between activations of order 1, where
 *   the quotient is rounding noise). Kernels: {@link RESCALED_KERNELS} (ReLU, ReLU6, leaky ReLU, PReLU,
 *   ELU, SELU, sigmoid, tanh, softplus, and clipping, which is how tfjs-layers builds `hardSigmoid` and
 *   `reLU({ maxValue })`), and `Minimum` / `Maximum` against an operand that is the same for inputs and
 *   references (tfjs-layers' `relu6` activation is `min(6, relu(x))`).
 * - **Max pooling** (Captum's rule): with `y`, `y₀` the pooled values of both halves and `c = max(y, y₀)`
 *   per window, `g·(c − y₀)` is routed to the input half's window maxima and `g·(y − c)` to the
 *   reference half's, their sum divided by `Δz` (the ordinary gradient where `|Δz| < 1e−7`). One of the two
 *   terms is always zero, and it lands where `Δz` has its sign, so `Σ m·Δz = Σ g·(y − y₀)` exactly.
 *   Kernels: `MaxPool`, `MaxPool3D`, and `Max` (global max pooling: tied maxima share the window's term).
 *
 * Linear kernels (matrix products, convolutions, additions, batch norm in inference, average pooling,
 * reshapes) keep their gradient: they pass multipliers as they pass gradients. The rules compute the
 * input rows' multipliers (from the saved values of both halves) and repeat them for the reference rows,
 * whose gradient nobody reads; the gradient at the input rows is then the multiplier `m_x`, and
 * `(x − x₀) ⊙ m_x` sums to `f(x) − f(x₀)` (summation to delta) when every non-linearity on the way is one
 * of these kernels.
 * Products of two computed tensors (gates, attention, `swish`, `gelu`) and a softmax inside the model
 * keep their ordinary gradient, and summation to delta no longer holds exactly there.
 *
 * Every rule splits its saved tensors into halves along axis 0, so the non-linearities must see the batch
 * on axis 0 (as in every tfjs layer; reshapes that merge the batch with other axes keep the halves).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { scopeGradient, type GradientOverride, type GradientDefinition } from '../../core/backend-gaps';
import { GlassboxModelError } from '../../core/errors';

/** Below this `|z − z₀|`, a rule uses the ordinary gradient instead of the difference quotient. */
export const RESCALE_EPSILON = 1e-7;

/** The element-wise kernels that get the Rescale rule. */
export const RESCALED_KERNELS: readonly string[] = [
  tf.Relu,
  tf.Relu6,
  tf.LeakyRelu,
  tf.Prelu,
  tf.Elu,
  tf.Selu,
  tf.Sigmoid,
  tf.Tanh,
  tf.Softplus,
  tf.ClipByValue,
];

/** The binary kernels that get the Rescale rule where one operand is the same for inputs and references. */
export const CLIPPING_KERNELS: readonly string[] = [tf.Minimum, tf.Maximum];

/** The max-pooling kernels that get Captum's max-pool rule. */
export const MAX_POOLING_KERNELS: readonly string[] = [tf.MaxPool, tf.MaxPool3D, tf.Max];

/** The halves `[a; b]` of a stacked batch along axis 0 (two slices: tfjs-backend-wasm's `SplitV` is slower). */
function halves(t: tf.Tensor, kernelName: string): [tf.Tensor, tf.Tensor] {
  assertStacked(t, kernelName);
  const rows = t.shape[0] / 2;
  return [tf.slice(t, 0, rows), tf.slice(t, rows, rows)];
}

/** The first half (the inputs' rows) of a stacked batch. */
function inputHalf(t: tf.Tensor, kernelName: string): tf.Tensor {
  assertStacked(t, kernelName);
  return tf.slice(t, 0, t.shape[0] / 2);
}

function assertStacked(t: tf.Tensor, kernelName: string): void {
  if (t.rank === 0 || t.shape[0] % 2 !== 0) {
    throw new GlassboxModelError(
      `DeepLift's rule for '${kernelName}' expected a batch of inputs stacked over their references on axis 0, got shape ` +
        `[${t.shape.join(', ')}]; the model's non-linearities must keep the batch on axis 0`,
    );
  }
}

/**
 * The gradient of a stacked batch from the gradient of its input rows. Every rule computes the input
 * rows' gradient from the input rows of `dy` and the saved values of both halves (half the work of
 * computing both), and hands the same values to the reference rows: their gradient is never read (the
 * attribution uses the input rows), and repeating the input rows' keeps `dy` equal on both halves for
 * the rules further back.
 */
const forBothHalves = (inputRows: tf.Tensor): tf.Tensor => tf.concat([inputRows, inputRows], 0);

/**
 * `numerator / Δz` with `Δz = a − b`, and `ordinary()` where `|Δz| < ε`. The masks are arithmetic
 * (`step`), not comparisons and selects, which tfjs-backend-wasm runs several times slower.
 */
function quotientOrOrdinary(numerator: tf.Tensor, a: tf.Tensor, b: tf.Tensor, ordinary: () => tf.Tensor): tf.Tensor {
  const delta = tf.sub(a, b);
  const close = tf.step(tf.sub(RESCALE_EPSILON, tf.abs(delta)));
  const quotient = tf.div(numerator, tf.add(delta, close));
  return tf.add(quotient, tf.mul(close, tf.sub(ordinary(), quotient)));
}

/**
 * The Rescale rule for an element-wise kernel `y = f(x)`: saves `x` (and any other inputs the ordinary
 * gradient saves) and `y`, and gives the input rows `dx = dy ⊙ (y_a − y_b)/(x_a − x_b)`. The ordinary
 * gradient (where `|Δx| < ε`, and for other inputs such as PReLU's `alpha`) is the one the scope uses
 * (`scopeGradient`: tfjs's, or the library's faster or exact version).
 */
function rescaled(kernelName: string): GradientOverride {
  return {
    kernelName,
    gradient: (registered) => {
      const original = scopeGradient(kernelName, registered);
      if (original === undefined) return undefined;
      const ordinaryInputs = original.inputsToSave ?? [];
      const savedInputs = ['x', ...ordinaryInputs.filter((name) => name !== 'x')];
      const ordinarySavesOutput = (original.outputsToSave ?? []).some(Boolean);
      const rule: GradientDefinition = {
        inputsToSave: savedInputs,
        outputsToSave: [true],
        gradFunc: (dy, saved, attrs) => {
          const y = saved[savedInputs.length];
          // What the ordinary gradient saves, with `x` and `y` given (all rows, or the input rows).
          const ordinarySaved = (x: tf.Tensor, output: tf.Tensor) => [
            ...ordinaryInputs.map((name) => (name === 'x' ? x : saved[savedInputs.indexOf(name)])),
            ...(ordinarySavesOutput ? [output] : []),
          ];
          return {
            ...original.gradFunc(dy, ordinarySaved(saved[0], y), attrs),
            x: () => {
              const [a, b] = halves(saved[0], kernelName);
              const [ya, yb] = halves(y, kernelName);
              const dyA = inputHalf(dy as tf.Tensor, kernelName);
              const ordinary = () => original.gradFunc(dyA, ordinarySaved(a, ya), attrs).x();
              return forBothHalves(quotientOrOrdinary(tf.mul(dyA, tf.sub(ya, yb)), a, b, ordinary));
            },
          };
        },
      };
      return rule;
    },
  };
}

/**
 * The Rescale rule for `y = min(a, b)` or `max(a, b)` where one operand does not change between input and
 * reference (a constant, as in tfjs-layers' `relu6` activation `min(6, relu(x))`): the other operand's
 * multiplier is `Δy/Δv`. Where both operands change (a max of two computed tensors), the ordinary
 * gradient; an operand broadcast along the batch never changes.
 */
function rescaledAgainstConstant(kernelName: string): GradientOverride {
  return {
    kernelName,
    gradient: (original) => {
      if (original === undefined) return undefined;
      return {
        inputsToSave: ['a', 'b'],
        outputsToSave: [true],
        gradFunc: (dy, saved, attrs) => {
          const [a, b, y] = saved;
          const ordinary = original.gradFunc(dy, [a, b], attrs);
          const batched = (t: tf.Tensor): boolean => t.rank === y.rank && t.shape[0] === y.shape[0];
          const rule = (name: 'a' | 'b') => (): tf.Tensor => {
            const [v, other] = name === 'a' ? [a, b] : [b, a];
            if (!batched(v) || !tf.util.arraysEqual(v.shape, y.shape)) return ordinary[name]();
            const [va, vb] = halves(v, kernelName);
            const [ya, yb] = halves(y, kernelName);
            const dyA = inputHalf(dy as tf.Tensor, kernelName);
            const otherA = batched(other) ? inputHalf(other, kernelName) : other;
            const ordinaryA = () => original.gradFunc(dyA, name === 'a' ? [va, otherA] : [otherA, va], attrs)[name]();
            const rescaledA = quotientOrOrdinary(tf.mul(dyA, tf.sub(ya, yb)), va, vb, ordinaryA);
            if (!batched(other)) return forBothHalves(rescaledA);
            const [oa, ob] = halves(other, kernelName);
            const otherUnchanged = tf.step(tf.sub(RESCALE_EPSILON, tf.abs(tf.sub(oa, ob))));
            const ordinaryRows = ordinaryA();
            return forBothHalves(tf.add(ordinaryRows, tf.mul(otherUnchanged, tf.sub(rescaledA, ordinaryRows))));
          };
          return { a: rule('a'), b: rule('b') };
        },
      };
    },
  };
}

/**
 * Captum's max-pool rule for a kernel whose ordinary gradient (saving `[x, y]`) routes `dy` to each
 * window's maximum. For `Max`, a window's term is shared among its tied maxima.
 */
function maxPooled(kernelName: string): GradientOverride {
  return {
    kernelName,
    gradient: (original) => {
      if (original === undefined) return undefined;
      return {
        ...original,
        gradFunc: (dy, saved, attrs) => {
          /** `g` (shaped like the output) routed to the window maxima of `x`. */
          const route = (g: tf.Tensor, x: tf.Tensor, y: tf.Tensor): tf.Tensor => {
            const routed = original.gradFunc(g, [x, y], attrs).x();
            return kernelName === tf.Max ? tf.div(routed, tiesPerWindow(original, x, y, attrs)) : routed;
          };
          const [x, y] = saved;
          return {
            x: () => {
              const [a, b] = halves(x, kernelName);
              const [ya, yb] = halves(y, kernelName);
              const dyA = inputHalf(dy as tf.Tensor, kernelName);
              const cross = tf.maximum(ya, yb);
              // dy·(c − y₀) to the inputs' maxima, dy·(y − c) to the references' maxima, in one routing.
              const routed = route(tf.concat([tf.mul(dyA, tf.sub(cross, yb)), tf.mul(dyA, tf.sub(ya, cross))], 0), x, y);
              const [toInput, toReference] = halves(routed, kernelName);
              return forBothHalves(quotientOrOrdinary(tf.add(toInput, toReference), a, b, () => route(dyA, a, ya)));
            },
          };
        },
      };
    },
  };
}

/**
 * The number of tied maxima in each window of a `Max` reduction, broadcastable against `x`: tfjs's
 * gradient gives each of them the whole window's term.
 */
function tiesPerWindow(original: tf.GradConfig, x: tf.Tensor, y: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
  const axes = tf.util.parseAxisParam((attrs as unknown as tf.MaxAttrs).reductionIndices, x.shape);
  if (axes.includes(0)) {
    throw new GlassboxModelError(`DeepLift's rule for 'Max' cannot reduce the batch axis (axis 0) of inputs stacked over their references`);
  }
  return tf.sum(original.gradFunc(tf.onesLike(y), [x, y], attrs).x(), axes, true);
}

/**
 * DeepLift's rules for every kernel it modifies: Rescale for {@link RESCALED_KERNELS} (and
 * {@link CLIPPING_KERNELS} against a constant), the max-pool rule for {@link MAX_POOLING_KERNELS}.
 */
export function deepLiftOverrides(): GradientOverride[] {
  return [...RESCALED_KERNELS.map(rescaled), ...CLIPPING_KERNELS.map(rescaledAgainstConstant), ...MAX_POOLING_KERNELS.map(maxPooled)];
}
