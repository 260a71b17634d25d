/**
 * Layer conductance (Dhamdhere, Sundararajan, Yan 2018, "How important is a neuron?"; Captum's
 * `LayerConductance`): the flow of the Integrated-Gradients path integral through each unit `y_j` of an
 * inner layer, `Cond_j = ∫₀¹ ∂f_c/∂y_j · dy_j(b + α(x − b))`, with Captum's discretisation: the input
 * path at the `steps + 1` points `α_0 < … < α_steps` of the quadrature rule `method`, and
 *
 * `Cond_j ≈ Σ_{k<steps} ∂f_c/∂y_j (x_k) · (y_j(x_{k+1}) − y_j(x_k))`,  `x_k = b + α_k (x − b)`,
 *
 * a Riemann–Stieltjes sum of the layer's gradient against the change of its output along the path.
 * Completeness: `Σ_j Cond_j ≈ f_c(x_steps) − f_c(x_0)`, which tends to `f_c(x) − f_c(b)` as `steps`
 * grows (exactly the endpoints with `'riemann_trapezoid'`, whose points are `k/steps`; Gauss–Legendre
 * points stop short of 0 and 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateOverPoints } from '../../core/accumulate';
import { resolveReference } from '../../core/inputs';
import type { ModelLike } from '../../core/model';
import { optionKeys } from '../../core/option-keys';
import { COMMON_OPTION_KEYS, type CommonOptions } from '../../core/options';
import { perRow, prepareCall } from '../../core/prepare';
import { assertInteger } from '../../core/validate';
import type { Baseline } from '../integrated-gradients';
import { layerActivations } from '../layer-gradients';
import { quadrature, type QuadratureMethod } from '../quadrature';
import { attributedLayer, replacedLayerEvaluator } from './layer-evaluators';

/** Options of {@link layerConductance}. */
export interface LayerConductanceOptions extends CommonOptions {
  /** Name of the layer whose units are attributed (inside nested models too). */
  layer: string;
  /** Number of path segments (default 50, as Captum): `steps + 1` points. */
  steps?: number;
  /** Rule whose `steps + 1` points discretise the path (default `'gausslegendre'`, as Captum). */
  method?: QuadratureMethod;
  /** Input baseline (default 0): a number, or a tensor per input as for {@link integratedGradients}. */
  baseline?: Baseline;
}

const CONDUCTANCE_KEYS = optionKeys<LayerConductanceOptions>()('layer', 'steps', 'method', 'baseline', ...COMMON_OPTION_KEYS);

/**
 * Conductance of every unit of `options.layer` for the target score, shaped like the layer's output.
 * Each of the `N·steps` rows costs a forward pass for the layer's outputs at its two path points (shared
 * with the neighbouring row) and a forward and backward pass for the gradient.
 * @example
 * const cond = await layerConductance(model, x, { layer: 'dense_1', target: 3, steps: 50 });
 */
export async function layerConductance(model: ModelLike, x: tf.Tensor | tf.Tensor[], options: LayerConductanceOptions): Promise<tf.Tensor> {
  const call = await prepareCall(model, x, options, { keys: CONDUCTANCE_KEYS, gradients: true });
  let baselines: tf.Tensor[] = [];
  try {
    const layer = attributedLayer(call, options?.layer, 'layerConductance');
    const steps = options?.steps ?? 50;
    assertInteger(steps, 'options.steps', 1);
    const { alphas } = quadrature(options?.method ?? 'gausslegendre', steps + 1);
    baselines = await resolveReference(options?.baseline, call.inputs, 'options.baseline');
    const inputs = call.inputs.tensors;
    const [conductance] = await accumulateOverPoints<tf.Tensor>({
      ...call.plan,
      evaluator: replacedLayerEvaluator(call.evaluator, layer),
      numExamples: call.numExamples,
      total: call.numExamples * steps,
      needs: 'gradients',
      // Row (e, k) needs the path points k and k+1 of example e; consecutive rows share one of them.
      points: (start, count) => {
        const path = segmentPoints(start, count, steps);
        const indices = tf.tensor1d(path.examples, 'int32');
        const pathAlphas = Float32Array.from(path.steps, (k) => alphas[k]);
        const pathInputs = inputs.map((input, k) => {
          const origin = tf.gather(baselines[k], indices);
          return tf.add(origin, tf.mul(perRow(pathAlphas, input.rank - 1), tf.sub(tf.gather(input, indices), origin)));
        });
        const [activation] = layerActivations(call.evaluator, [layer], pathInputs, path.examples);
        const from = tf.tensor1d(path.from, 'int32');
        const y = tf.gather(activation, from);
        const change = tf.sub(tf.gather(activation, tf.tensor1d(path.to, 'int32')), y);
        return { inputs: [...pathInputs.map((p) => tf.gather(p, from)), y], examples: path.rowExamples, extra: change };
      },
      terms: (rows, evaluation) => [tf.mul(evaluation.gradients![evaluation.gradients!.length - 1], rows.extra)],
    });
    return conductance;
  } finally {
    baselines.forEach((b) => b.dispose());
    call.dispose();
  }
}

/**
 * The distinct path points `(example, step)` rows `[start, start + count)` need (rows are example-major,
 * row `r` is segment `r mod steps` of example `⌊r/steps⌋`), and for each row the positions of its
 * segment's start (`from`) and end (`to`) among them.
 */
function segmentPoints(start: number, count: number, steps: number) {
  const examples: number[] = [];
  const pointSteps: number[] = [];
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  const rowExamples = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const e = Math.floor((start + i) / steps);
    const k = (start + i) % steps;
    const last = examples.length - 1;
    if (last < 0 || examples[last] !== e || pointSteps[last] !== k) {
      examples.push(e);
      pointSteps.push(k);
    }
    from[i] = examples.length - 1;
    examples.push(e);
    pointSteps.push(k + 1);
    to[i] = examples.length - 1;
    rowExamples[i] = e;
  }
  return { examples: Int32Array.from(examples), steps: pointSteps, from, to, rowExamples };
}
