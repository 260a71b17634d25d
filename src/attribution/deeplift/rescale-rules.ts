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
 * reshapes) keep their gradient: they pass multipliers as they pass gradients. Both halves get the same
 * multipliers, so the gradient at the input half is the multiplier `m_x` and `(x − x₀) ⊙ m_x` sums to
 * `f(x) − f(x₀)` (summation to delta) when every non-linearity on the way is one of these kernels.
 * Products of two computed tensors (gates, attention, `swish`, `gelu`) and a softmax inside the model
 * keep their ordinary gradient, and summation to delta no longer holds exactly there.
 *
 * Every rule splits its saved tensors into halves along axis 0, so the non-linearities must see the batch
 * on axis 0 (as in every tfjs layer; reshapes that merge the batch with other axes keep the halves).
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientOverride, GradientRule } from '../../core/backend-gaps';
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

/** The halves `[a; b]` of a stacked batch along axis 0. */
function halves(t: tf.Tensor, kernelName: string): [tf.Tensor, tf.Tensor] {
  if (t.rank === 0 || t.shape[0] % 2 !== 0) {
    throw new GlassboxModelError(
      `DeepLift's rule for '${kernelName}' expected a batch of inputs stacked over their references on axis 0, got shape ` +
        `[${t.shape.join(', ')}]; the model's non-linearities must keep the batch on axis 0`,
    );
  }
  return tf.split(t, 2, 0) as [tf.Tensor, tf.Tensor];
}

/** `[t; t]`: a per-pair quantity for both halves. */
const twice = (t: tf.Tensor): tf.Tensor => tf.concat([t, t], 0);

/**
 * `where(|Δz| < ε, ordinary, [q; q]·scale)` with the quotient `q = numerator / Δz`, `Δz = a − b` for the
 * halves of the kernel's input.
 */
function quotientOrGradient(numerator: tf.Tensor, input: tf.Tensor, ordinary: () => tf.Tensor, kernelName: string, scale?: tf.Tensor): tf.Tensor {
  const [a, b] = halves(input, kernelName);
  const delta = tf.sub(a, b);
  const close = tf.less(tf.abs(delta), RESCALE_EPSILON);
  const quotient = twice(tf.div(numerator, tf.where(close, tf.onesLike(delta), delta)));
  return tf.where(twice(close), ordinary(), scale === undefined ? quotient : tf.mul(scale, quotient));
}

/**
 * The Rescale rule for an element-wise kernel `y = f(x)`: saves `x` (and any other inputs the ordinary
 * gradient saves) and `y`, and gives `dx = dy ⊙ [m; m]` with `m = (y_a − y_b)/(x_a − x_b)`. The
 * ordinary gradient (where `|Δx| < ε`, and for other inputs such as PReLU's `alpha`) is the registered one.
 */
function rescaled(kernelName: string): GradientOverride {
  return {
    kernelName,
    gradient: (original) => {
      if (original === undefined) return undefined;
      const ordinaryInputs = original.inputsToSave ?? [];
      const savedInputs = ['x', ...ordinaryInputs.filter((name) => name !== 'x')];
      const ordinarySavesOutput = (original.outputsToSave ?? []).some(Boolean);
      const rule: GradientRule = {
        inputsToSave: savedInputs,
        outputsToSave: [true],
        gradFunc: (dy, saved, attrs) => {
          const x = saved[0];
          const y = saved[savedInputs.length];
          const ordinarySaved = [...ordinaryInputs.map((name) => saved[savedInputs.indexOf(name)]), ...(ordinarySavesOutput ? [y] : [])];
          const ordinary = original.gradFunc(dy, ordinarySaved, attrs);
          return {
            ...ordinary,
            x: () => {
              const [ya, yb] = halves(y, kernelName);
              return quotientOrGradient(tf.sub(ya, yb), x, () => ordinary.x(), kernelName, dy as tf.Tensor);
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
          const half = [y.shape[0] / 2, ...y.shape.slice(1)];
          const batched = (t: tf.Tensor): boolean => t.rank === y.rank && t.shape[0] === y.shape[0];
          const unchanged = (t: tf.Tensor): tf.Tensor => {
            if (!batched(t)) return tf.cast(tf.ones(half), 'bool');
            const [p, q] = halves(t, kernelName);
            return tf.broadcastTo(tf.less(tf.abs(tf.sub(p, q)), RESCALE_EPSILON), half);
          };
          const rescale = (v: tf.Tensor, other: tf.Tensor, name: 'a' | 'b') => (): tf.Tensor => {
            if (!tf.util.arraysEqual(v.shape, y.shape)) return ordinary[name]();
            const [ya, yb] = halves(y, kernelName);
            const rescaled = quotientOrGradient(tf.sub(ya, yb), v, () => ordinary[name](), kernelName, dy as tf.Tensor);
            return tf.where(twice(unchanged(other)), rescaled, ordinary[name]());
          };
          return { a: rescale(a, b, 'a'), b: rescale(b, a, 'b') };
        },
      };
    },
  };
}

/**
 * Captum's max-pool rule for a kernel whose ordinary gradient (saving `[x, y]`) routes `dy` to each
 * window's maximum: `route(g)`. For `Max`, `route` shares a window's term among tied maxima.
 */
function maxPooled(kernelName: string): GradientOverride {
  return {
    kernelName,
    gradient: (original) => {
      if (original === undefined) return undefined;
      return {
        ...original,
        gradFunc: (dy, saved, attrs) => {
          const [x, y] = saved;
          const route = kernelName === tf.Max ? sharedRoute(original, x, y, attrs) : (g: tf.Tensor) => original.gradFunc(g, saved, attrs).x();
          return {
            x: () => {
              const [ya, yb] = halves(y, kernelName);
              const cross = tf.maximum(ya, yb);
              const routed = route(tf.mul(dy as tf.Tensor, tf.concat([tf.sub(cross, yb), tf.sub(ya, cross)], 0)));
              const [toInput, toReference] = halves(routed, kernelName);
              return quotientOrGradient(tf.add(toInput, toReference), x, () => route(dy as tf.Tensor), kernelName);
            },
          };
        },
      };
    },
  };
}

/**
 * The routing of a `Max` reduction with ties shared: tfjs's gradient gives every tied maximum the whole
 * `g`; divided by the number of ties in the window, the window's term is distributed once.
 */
function sharedRoute(original: tf.GradConfig, x: tf.Tensor, y: tf.Tensor, attrs: tf.NamedAttrMap): (g: tf.Tensor) => tf.Tensor {
  const axes = tf.util.parseAxisParam((attrs as unknown as tf.MaxAttrs).reductionIndices, x.shape);
  if (axes.includes(0)) {
    throw new GlassboxModelError(`DeepLift's rule for 'Max' cannot reduce the batch axis (axis 0) of inputs stacked over their references`);
  }
  const ties = original.gradFunc(tf.onesLike(y), [x, y], attrs).x();
  const count = tf.sum(ties, axes, true);
  return (g) => tf.div(original.gradFunc(g, [x, y], attrs).x(), count);
}

/**
 * DeepLift's rules for every kernel it modifies: Rescale for {@link RESCALED_KERNELS} (and
 * {@link CLIPPING_KERNELS} against a constant), the max-pool rule for {@link MAX_POOLING_KERNELS}.
 */
export function deepLiftOverrides(): GradientOverride[] {
  return [...RESCALED_KERNELS.map(rescaled), ...CLIPPING_KERNELS.map(rescaledAgainstConstant), ...MAX_POOLING_KERNELS.map(maxPooled)];
}
